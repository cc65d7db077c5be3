//! The two halves of a circular DMA buffer, and how a missed interrupt shows.

/// A half of a circular DMA buffer.
///
/// The half-transfer interrupt fires when the DMA has finished [`First`](Self::First) and
/// moved on to the second half; transfer-complete fires when it has finished
/// [`Second`](Self::Second) and wrapped around to the first. Either way the half it names
/// is the one the CPU may now touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Half {
    /// Words `0..len/2`: free at the half-transfer interrupt.
    First,
    /// Words `len/2..len`: free at the transfer-complete interrupt.
    Second,
}

impl Half {
    /// The other half.
    ///
    /// ```
    /// use rtmix_embedded::Half;
    /// assert_eq!(Half::First.other(), Half::Second);
    /// ```
    #[must_use]
    pub const fn other(self) -> Self {
        match self {
            Half::First => Half::Second,
            Half::Second => Half::First,
        }
    }

    /// This half of `buffer` (for an odd length, the second half is the longer).
    ///
    /// ```
    /// use rtmix_embedded::Half;
    /// let mut b = [1, 2, 3, 4];
    /// assert_eq!(Half::Second.of_mut(&mut b), &mut [3, 4]);
    /// ```
    pub fn of_mut<T>(self, buffer: &mut [T]) -> &mut [T] {
        let (first, second) = buffer.split_at_mut(buffer.len() / 2);
        match self {
            Half::First => first,
            Half::Second => second,
        }
    }

    /// This half of `buffer`, read-only.
    pub fn of<T>(self, buffer: &[T]) -> &[T] {
        let (first, second) = buffer.split_at(buffer.len() / 2);
        match self {
            Half::First => first,
            Half::Second => second,
        }
    }
}

/// Which half the next interrupt must name. Interrupts alternate; when one names the
/// half that was expected last time, the interrupt in between was missed (the CPU was
/// busy for longer than a half) and the DMA went through one half the integration never
/// serviced. Two missed interrupts in a row look like none: only a timer or the DMA's
/// transfer counter can tell those apart, and the firmware reports them with
/// `report_lost`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Alternation {
    next: Half,
}

impl Alternation {
    pub(crate) const fn new() -> Self {
        Self { next: Half::First }
    }

    /// Takes the interrupt for `half`; true if the one before it was missed.
    pub(crate) fn arrive(&mut self, half: Half) -> bool {
        let missed = half != self.next;
        self.next = half.other();
        missed
    }
}
