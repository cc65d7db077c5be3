//! Where a stream's storage lives.
//!
//! A stream has two sides that share nothing but a few single-producer single-consumer
//! queues (commands one way, completions and stats snapshots the other) and, per direction,
//! its meters. Each side owns everything else it needs: the engine its action slots and
//! schedule, the controller its mailbox. Inside, both sides work on slices; a [`Home`]
//! only says what owns them:
//!
//! * [`Fixed`]: borrowed from storage declared by the application, sized by const generics
//!   (see [`OutputStorage`](crate::OutputStorage)): a `static` on a microcontroller, with
//!   heapless queues and no allocator.
//! * [`Heap`] (feature `alloc`): allocated once when the stream opens, with the sizes chosen
//!   at run time ([`StreamCapacity`](crate::StreamCapacity)), rtrb queues, and freed when
//!   both sides are gone. Nothing is leaked, so a program can open streams forever.
//!
//! The engine and the controller are generic over their home, and behave the same in both.

use core::fmt::Debug;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use crate::channel_map::MapOf;

mod sealed {
    pub trait Sealed {}
}

/// The sending end of a queue between the two sides.
pub trait Sender<T> {
    /// Items that can be sent now without waiting.
    fn room(&self) -> usize;
    /// Sends `item`, or hands it back if the queue is full.
    fn send(&mut self, item: T) -> Result<(), T>;
}

/// The receiving end of a queue between the two sides.
pub trait Receiver<T> {
    /// Items waiting.
    fn waiting(&self) -> usize;
    /// The oldest item, if any.
    fn receive(&mut self) -> Option<T>;
}

/// Where a stream's storage lives: [`Fixed`], or `Heap` (feature `alloc`): see each.
///
/// It is sealed: the two homes are all there are.
pub trait Home: sealed::Sealed + Sized + Debug {
    /// An array one side owns (slots, lists, gains).
    type Array<T: 'static>: DerefMut<Target = [T]>;
    /// A value both sides read (the meters).
    type Shared<T: ?Sized + Sync + 'static>: Deref<Target = T> + Clone;
    /// The sending end of a queue.
    type Tx<T: 'static>: Sender<T>;
    /// The receiving end of a queue.
    type Rx<T: 'static>: Receiver<T>;
    /// A channel map as a command and an action carry it: room for as many channels as
    /// the home's channel capacity.
    #[doc(hidden)]
    type Map: crate::channel_map::MapStore + 'static;
    /// The meter slots of one direction.
    #[doc(hidden)]
    type MeterSlots: AsRef<[crate::meter::MeterSlots]> + Send + Sync + 'static;
}

/// Storage borrowed for `'a` from a place the application declared, sized by const
/// generics; `M` is the most channels a direction and a channel map can have. On a
/// microcontroller `'a` is `'static` and the storage a `static`
/// ([`OutputStorage`](crate::OutputStorage), [`InputStorage`](crate::InputStorage)).
///
/// ```
/// use rtmix_core::{Fixed, Home};
/// fn channel_capacity<H: Home>() {}
/// channel_capacity::<Fixed<'static, 2>>();
/// ```
pub struct Fixed<'a, const M: usize>(PhantomData<&'a mut ()>);

impl<const M: usize> Debug for Fixed<'_, M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Fixed<{M}>")
    }
}

impl<const M: usize> sealed::Sealed for Fixed<'_, M> {}

impl<'a, const M: usize> Home for Fixed<'a, M> {
    type Array<T: 'static> = &'a mut [T];
    type Shared<T: ?Sized + Sync + 'static> = &'a T;
    type Tx<T: 'static> = heapless::spsc::Producer<'a, T>;
    type Rx<T: 'static> = heapless::spsc::Consumer<'a, T>;
    type Map = MapOf<M>;
    type MeterSlots = [crate::meter::MeterSlots; M];
}

impl<T> Sender<T> for heapless::spsc::Producer<'_, T> {
    fn room(&self) -> usize {
        self.capacity() - self.len()
    }

    fn send(&mut self, item: T) -> Result<(), T> {
        self.enqueue(item)
    }
}

impl<T> Receiver<T> for heapless::spsc::Consumer<'_, T> {
    fn waiting(&self) -> usize {
        self.len()
    }

    fn receive(&mut self) -> Option<T> {
        self.dequeue()
    }
}

#[cfg(feature = "alloc")]
pub use heap::Heap;

#[cfg(feature = "alloc")]
mod heap {
    use super::{sealed, Debug, Home, MapOf, Receiver, Sender};
    use alloc::boxed::Box;
    use alloc::sync::Arc;

    /// Storage allocated once when a stream opens, sized at run time
    /// ([`StreamCapacity`](crate::StreamCapacity)), owned by the two sides and freed when
    /// both are gone. `M` is the most channels a channel map can have (32 unless said).
    ///
    /// ```
    /// use rtmix_core::{Heap, StreamCapacity, StreamConfig};
    /// let (ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
    ///     StreamConfig::output(2),
    ///     StreamCapacity::default(),
    /// ).unwrap();
    /// let _: &rtmix_core::Controller<Vec<f32>, Vec<f32>, Heap> = &ctl;
    /// drop((ctl, engine)); // everything is freed here
    /// ```
    pub struct Heap<const M: usize = { crate::MAX_MAP_CHANNELS }>;

    impl<const M: usize> Debug for Heap<M> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "Heap<{M}>")
        }
    }

    impl<const M: usize> sealed::Sealed for Heap<M> {}

    impl<const M: usize> Home for Heap<M> {
        type Array<T: 'static> = Box<[T]>;
        type Shared<T: ?Sized + Sync + 'static> = Arc<T>;
        type Tx<T: 'static> = rtrb::Producer<T>;
        type Rx<T: 'static> = rtrb::Consumer<T>;
        type Map = MapOf<M>;
        type MeterSlots = Box<[crate::meter::MeterSlots]>;
    }

    impl<T> Sender<T> for rtrb::Producer<T> {
        fn room(&self) -> usize {
            self.slots()
        }

        fn send(&mut self, item: T) -> Result<(), T> {
            self.push(item).map_err(|rtrb::PushError::Full(item)| item)
        }
    }

    impl<T> Receiver<T> for rtrb::Consumer<T> {
        fn waiting(&self) -> usize {
            self.slots()
        }

        fn receive(&mut self) -> Option<T> {
            self.pop().ok()
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::format;

    use super::*;

    /// A home's `Debug` names it and its channel capacity (home.rs:79 and :140 survived
    /// as `Ok(Default::default())`, which prints nothing).
    #[test]
    fn each_home_prints_its_name_and_channel_capacity() {
        assert_eq!(
            format!("{:?}", Fixed::<'static, 2>(PhantomData)),
            "Fixed<2>"
        );
        #[cfg(feature = "alloc")]
        {
            assert_eq!(format!("{:?}", Heap::<8>), "Heap<8>");
            assert_eq!(
                format!("{:?}", Heap::<{ crate::MAX_MAP_CHANNELS }>),
                format!("Heap<{}>", crate::MAX_MAP_CHANNELS)
            );
        }
    }

    /// A fixed home's receiving end counts what waits in it: none, one, several, and
    /// fewer again after a receive (home.rs:106, `0` and `1`, survived: the count feeds
    /// the stats' queue high-water mark and `is_idle`, and the suites run their streams
    /// on the heap home).
    #[test]
    fn a_fixed_queue_counts_the_items_waiting() {
        let mut queue = heapless::spsc::Queue::<u32, 8>::new();
        let (mut tx, mut rx) = queue.split();
        assert_eq!(Receiver::waiting(&rx), 0);
        let room = Sender::room(&tx);
        assert!(room >= 5, "room {room}");
        Sender::send(&mut tx, 10).unwrap();
        assert_eq!(Receiver::waiting(&rx), 1);
        for x in 11..15 {
            Sender::send(&mut tx, x).unwrap();
        }
        assert_eq!(Receiver::waiting(&rx), 5);
        assert_eq!(Sender::room(&tx), room - 5);
        assert_eq!(Receiver::receive(&mut rx), Some(10));
        assert_eq!(Receiver::receive(&mut rx), Some(11));
        assert_eq!(Receiver::waiting(&rx), 3);
        while Receiver::receive(&mut rx).is_some() {}
        assert_eq!(Receiver::waiting(&rx), 0);
    }
}
