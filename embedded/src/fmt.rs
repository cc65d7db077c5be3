//! Diagnostics routed to `defmt` when the `defmt` feature is on, and to nothing otherwise
//! (the embassy-sync pattern).
//!
//! These macros are for rare events (a missed DMA interrupt, a bad buffer, a codec that
//! did not answer); nothing in this crate calls them per sample or per frame.

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

/// With `defmt` on, a compile-time check that every value type a firmware logs, from
/// rtmix-core and from this crate, implements `defmt::Format` (handles that own queues,
/// such as the storages, `Controller` and the engine halves, are not values and do not).
#[cfg(feature = "defmt")]
const _: () = {
    fn format<T: defmt::Format + ?Sized>() {}
    type P = &'static [f32];
    type R = &'static mut [f32];
    #[allow(dead_code)]
    fn all() {
        use rtmix_core::{self as c, convert};
        format::<c::ActionId>();
        format::<c::ActionKind>();
        format::<c::ActionStats>();
        format::<c::At>();
        format::<c::ChannelMap>();
        format::<c::Completion<P, R>>();
        format::<c::Direction>();
        format::<c::EndReason>();
        format::<c::Ending>();
        format::<c::Entry<P>>();
        format::<c::Error>();
        format::<c::Feed<P, P>>();
        format::<c::GainTarget>();
        format::<c::Interval>();
        format::<c::Late>();
        format::<c::Level>();
        format::<c::Member<P, R>>();
        format::<c::OnEmpty>();
        format::<c::OnFull>();
        format::<c::Payload<P, R>>();
        format::<c::Play<P>>();
        format::<c::Record<R>>();
        format::<c::Rejected<c::Play<P>>>();
        format::<c::Rejected<c::Record<R>>>();
        format::<c::Repeat>();
        format::<c::StreamConfig>();
        format::<c::StreamStats>();
        format::<c::Timeline<P, 8>>();
        format::<convert::I24>();
        format::<convert::I24Packed>();
        format::<crate::Block>();
        format::<crate::CodecError>();
        format::<crate::DmaError>();
        format::<crate::Edge>();
        format::<crate::Fired>();
        format::<crate::Half>();
        format::<crate::HalfReport>();
        format::<crate::Trigger>();
        format::<crate::TriggerError>();
        format::<crate::codec::cs43l22::Config>();
        format::<crate::codec::cs43l22::Interface>();
        format::<crate::codec::cs43l22::OutputDevice>();
        format::<crate::codec::cs43l22::Volume>();
    }
};
