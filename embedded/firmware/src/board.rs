//! What the firmware's two programs share besides the scenario: the trace over
//! semihosting, the static RAM and peak stack they report, and the exit code.

use core::fmt::Write as _;

use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio::{self, HostStream};
use rtmix_core::heapless::String;

use crate::scenario::{emit, Outcome, Trace};

/// The trace, on the host's standard output through semihosting.
pub(crate) struct Semihosting(Option<HostStream>);

impl core::fmt::Debug for Semihosting {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Semihosting")
            .field(&self.0.is_some())
            .finish()
    }
}

impl Semihosting {
    pub(crate) fn open() -> Self {
        Self(hio::hstdout().ok())
    }
}

impl Trace for Semihosting {
    fn line(&mut self, line: &str) {
        let mut out: String<162> = String::new();
        // One host call per line: the line (at most 160 bytes) and its newline fit.
        writeln!(out, "{line}").ok();
        if let Some(stream) = self.0.as_mut() {
            stream.write_all(out.as_bytes()).ok();
        }
    }
}

// Symbols of cortex-m-rt's link.x: the bounds of .data and .bss in RAM, and of the stack,
// which its reset handler painted with `STACK_PAINT_VALUE` (feature `paint-stack`).
extern "C" {
    static __sdata: u32;
    static __edata: u32;
    static __sbss: u32;
    static __ebss: u32;
    static _stack_end: u32;
    static _stack_start: u32;
}

/// The lowest address of `[from, to)` (word-aligned) whose word is not the paint.
#[allow(unsafe_code)] // reads the painted stack region by raw address: no safe API does
fn lowest_used(from: usize, to: usize) -> usize {
    let mut addr = from;
    while addr < to {
        // SAFETY: `[_stack_end, _stack_start)` is RAM reserved for the stack by
        // cortex-m-rt's linker script, word-aligned (it asserts so); reading a word of it
        // has no side effect, and nothing else writes there but this program's own stack,
        // which is above every address this loop reads before it stops.
        let word = unsafe { core::ptr::read_volatile(addr as *const u32) };
        if word != cortex_m_rt::STACK_PAINT_VALUE {
            break;
        }
        addr += 4;
    }
    addr
}

/// Prints the static RAM and the peak stack, then the verdict, and exits QEMU with 0 if
/// `outcome.ok`, else 1.
pub(crate) fn finish(trace: &mut Semihosting, outcome: Outcome) -> ! {
    let data = (&raw const __edata) as usize - (&raw const __sdata) as usize;
    let bss = (&raw const __ebss) as usize - (&raw const __sbss) as usize;
    // Trace lines starting with `#` depend on the target: the host test does not compare
    // them.
    emit(
        trace,
        format_args!(
            "# static RAM (.data + .bss, from the linker's symbols): {} B (.data {data} B, \
             .bss {bss} B)",
            data + bss
        ),
    );
    let (end, start) = (
        (&raw const _stack_end) as usize,
        (&raw const _stack_start) as usize,
    );
    let peak = start - lowest_used(end, start);
    emit(
        trace,
        format_args!(
            "# peak stack: {peak} B (painted at reset from {end:#010x} to {start:#010x}, \
             scanned at the end)"
        ),
    );
    emit(
        trace,
        format_args!("# {}", if outcome.ok { "PASS" } else { "FAIL" }),
    );
    debug::exit(if outcome.ok {
        EXIT_SUCCESS
    } else {
        EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

/// Says what failed in the set-up and exits with 1.
pub(crate) fn fail(trace: &mut Semihosting, what: &str) -> ! {
    emit(trace, format_args!("# set-up failed: {what}"));
    finish(
        trace,
        Outcome {
            checksum: 0,
            ok: false,
        },
    )
}
