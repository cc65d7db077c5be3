//! What the rtmix-cpal test binaries share.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

use rtmix_core::{Controller, Engine, Heap, StreamCapacity, StreamConfig};
use rtmix_host_tests::alloc_guard::forbid_alloc;

/// Points alsa-lib at the project's PCMs (fixtures/alsa/rtmix.conf) and rtmix-cpal's
/// (backend-cpal/fixtures/cpal.conf) besides the system ones, once, before its first use.
pub(crate) fn alsa_config() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = env!("CARGO_MANIFEST_DIR");
        std::env::set_var(
            "ALSA_CONFIG_PATH",
            format!(
                "/usr/share/alsa/alsa.conf:{dir}/../fixtures/alsa/rtmix.conf:{dir}/fixtures/cpal.conf"
            ),
        );
    });
}

/// The file PCMs take their file from the environment: one test at a time uses them.
pub(crate) fn file_pcms() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    alsa_config();
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Allocations and frees counted inside callbacks run under [`audit`].
pub(crate) static CALLBACK_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// Callback bodies run under [`audit`].
pub(crate) static AUDITED_CALLBACKS: AtomicUsize = AtomicUsize::new(0);

/// A `RunControl::audit` hook: runs the callback body under the test allocator's guard
/// (on the audio thread itself) and counts what it allocated or freed.
pub(crate) fn audit(body: &mut dyn FnMut()) {
    let ((), n) = forbid_alloc(body);
    CALLBACK_ALLOCATIONS.fetch_add(n, Ordering::Relaxed);
    AUDITED_CALLBACKS.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("rtmix-cpal-{}-{name}", std::process::id()))
}

pub(crate) fn read_f32(path: &std::path::Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The control side of the test streams: `Vec` buffers both ways, storage on the heap.
pub(crate) type Ctl = Controller<Vec<f32>, Vec<f32>, Heap>;

/// Opens a test stream with the default capacity; its storage is freed when both sides
/// are dropped.
pub(crate) fn open(config: StreamConfig) -> (Ctl, Engine<Vec<f32>, Vec<f32>, Heap>) {
    rtmix_core::open(config, StreamCapacity::default()).expect("a valid stream")
}
