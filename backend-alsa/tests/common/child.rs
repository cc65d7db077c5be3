//! A test that needs a process of its own (dropped privileges, lowered limits) runs its
//! own test binary again as a child, which does the work when it finds `env` set and
//! prints `passed` once every check held.

#![allow(unsafe_code)] // FFI: libc setuid calls, to drop root for real

use std::process::Command;

/// Runs test `name` of this binary again in a child process with `env` set, and asserts
/// that it exits successfully having printed `passed`. Returns the line that says so.
pub(crate) fn run_as_child(name: &str, env: &str, passed: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(env, "1")
        .output()
        .expect("the test binary runs again");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success() && stdout.contains(passed),
        "the child failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
        .lines()
        .find(|l| l.contains(passed))
        .unwrap_or_default()
        .to_owned()
}

/// Drops root for `nobody` (uid and gid 65534): no capabilities (`CAP_SYS_NICE`,
/// `CAP_IPC_LOCK`, `CAP_SYS_RESOURCE`), and bound by `RLIMIT_NPROC`, which root is not.
/// Nothing to do for a process that is not root.
pub(crate) fn drop_root() {
    // SAFETY: plain system calls on this process's credentials; `setgroups` reads no
    // memory when its count is 0.
    unsafe {
        if libc::geteuid() == 0 {
            assert_eq!(libc::setgroups(0, std::ptr::null()), 0, "setgroups");
            assert_eq!(libc::setresgid(65_534, 65_534, 65_534), 0, "setresgid");
            assert_eq!(libc::setresuid(65_534, 65_534, 65_534), 0, "setresuid");
        }
    }
}
