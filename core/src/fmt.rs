//! Internal diagnostics, routed to `defmt` when that feature is on and to nothing otherwise
//! (the embassy-sync pattern). These macros are for the control side and for rare events;
//! they never sit in the per-sample path.

#![allow(unused_macros)]

#[cfg(feature = "defmt")]
macro_rules! debug {
    ($($arg:tt)*) => { ::defmt::debug!($($arg)*) };
}

#[cfg(not(feature = "defmt"))]
macro_rules! debug {
    ($($arg:expr),* $(,)?) => {{ $( let _ = &$arg; )* }};
}

#[cfg(feature = "defmt")]
macro_rules! warn {
    ($($arg:tt)*) => { ::defmt::warn!($($arg)*) };
}

#[cfg(not(feature = "defmt"))]
macro_rules! warn {
    ($($arg:expr),* $(,)?) => {{ $( let _ = &$arg; )* }};
}
