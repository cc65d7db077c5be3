//! `rtmix.Action`: what every request returns, filled in when its completion arrives.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::PyDict;
use rtmix_core::{ActionId, ActionStats, EndReason, Payload, StreamStats};

use crate::control::Done;
use crate::ring::RingEnds;

/// What a finished action reports.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    pub(crate) actual_start: Option<u64>,
    pub(crate) frames: u64,
    pub(crate) ended_at: Option<u64>,
    pub(crate) end: EndReason,
    pub(crate) late_by: u64,
    pub(crate) stats: ActionStats,
    pub(crate) stream_stats: Option<StreamStats>,
}

/// One request's state, shared by its `Action` object and the stream's table of pending
/// actions. Only Rust data: filled with or without the GIL.
#[derive(Debug)]
pub(crate) struct Cell {
    pub(crate) id: ActionId,
    pub(crate) kind: &'static str,
    pub(crate) requested_start: Option<u64>,
    /// Columns of a recording.
    pub(crate) channels: usize,
    pub(crate) finished: OnceLock<Finished>,
    /// A recording's samples until `recording` hands them to numpy.
    pub(crate) recorded: Mutex<Option<Vec<f32>>>,
    /// The ring a ring play or recording gives its end back to.
    pub(crate) ring: Option<Arc<RingEnds>>,
}

impl Cell {
    pub(crate) fn new(
        id: ActionId,
        kind: &'static str,
        requested_start: Option<u64>,
        channels: usize,
        ring: Option<Arc<RingEnds>>,
    ) -> Self {
        Self {
            id,
            kind,
            requested_start,
            channels,
            finished: OnceLock::new(),
            recorded: Mutex::new(None),
            ring,
        }
    }

    /// Takes in the completion: the recording, the ring's end, the figures.
    pub(crate) fn complete(&self, done: Done) {
        let finished = Finished {
            actual_start: done.actual_start,
            frames: done.frames,
            ended_at: done.ended_at,
            end: done.end,
            late_by: done.late_by,
            stats: done.stats,
            stream_stats: done.stream_stats().copied(),
        };
        match done.payload {
            Payload::Recorded(rtmix_core::Feed::Buffer(samples)) => {
                *self.recorded.lock().unwrap_or_else(PoisonError::into_inner) = Some(samples);
            }
            Payload::Recorded(rtmix_core::Feed::Stream(producer)) => {
                if let Some(ring) = &self.ring {
                    ring.give_back_producer(producer);
                }
            }
            Payload::Played(rtmix_core::Feed::Stream(consumer)) => {
                if let Some(ring) = &self.ring {
                    ring.give_back_consumer(consumer);
                }
            }
            _ => {}
        }
        // Once only: the core hands back one completion per action.
        let _ = self.finished.set(finished);
    }
}

/// The name of an end reason, as Python sees it.
pub(crate) fn end_name(end: EndReason) -> &'static str {
    match end {
        EndReason::Finished => "finished",
        EndReason::Cancelled { .. } => "cancelled",
        EndReason::DroppedLate => "late",
        EndReason::Cut => "cut",
        EndReason::TargetNotActive => "target_not_active",
        EndReason::Invalid => "invalid",
        EndReason::StreamStopped => "stopped",
        EndReason::Underflow => "underflow",
        EndReason::Overflow => "overflow",
    }
}

/// A stream's counters as a dict.
pub(crate) fn stream_stats_dict<'py>(
    py: Python<'py>,
    s: &StreamStats,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(
        "direction",
        match s.direction {
            rtmix_core::Direction::Output => "output",
            rtmix_core::Direction::Input => "input",
        },
    )?;
    d.set_item("blocks", s.blocks)?;
    d.set_item("frames", s.frames)?;
    d.set_item("min_block", s.min_block)?;
    d.set_item("max_block", s.max_block)?;
    d.set_item("xruns", s.xruns)?;
    d.set_item("frames_lost", s.frames_lost)?;
    d.set_item("late", s.late)?;
    d.set_item("queue_high_water", s.queue_high_water)?;
    d.set_item("partial_frames", s.partial_frames)?;
    d.set_item("non_finite", s.non_finite)?;
    d.set_item("clipped", s.clipped)?;
    Ok(d)
}

/// What a request returns: its figures are `None` until it finishes (`done`).
///
/// `requested_start`, `actual_start` (an int or `None`), `frames`, `end` (`"finished"`,
/// `"cancelled"`, `"late"`, `"stopped"`, `"cut"`, `"target_not_active"`, `"underflow"`,
/// `"overflow"`), `stats` (a dict) and `recording` (float32 `(frames, channels)`, for a
/// recording into a buffer).
#[pyclass(frozen, module = "rtmix")]
pub(crate) struct Action {
    pub(crate) cell: Arc<Cell>,
    recording: GILOnceCell<Option<PyObject>>,
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Action")
            .field("cell", &self.cell)
            .finish_non_exhaustive()
    }
}

impl Action {
    pub(crate) fn new(cell: Arc<Cell>) -> Self {
        Self {
            cell,
            recording: GILOnceCell::new(),
        }
    }

    fn finished(&self) -> Option<&Finished> {
        self.cell.finished.get()
    }
}

#[pymethods]
impl Action {
    /// `"play"`, `"record"`, `"cancel"` or `"stats"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.cell.kind
    }

    /// True once the action's completion has arrived.
    #[getter]
    fn done(&self) -> bool {
        self.finished().is_some()
    }

    /// The frame asked for (`None`: as soon as possible).
    #[getter]
    fn requested_start(&self) -> Option<u64> {
        self.cell.requested_start
    }

    /// The frame where it started (`None` until done, or if it never started).
    #[getter]
    fn actual_start(&self) -> Option<u64> {
        self.finished().and_then(|f| f.actual_start)
    }

    /// Frames played or recorded (`None` until done).
    #[getter]
    fn frames(&self) -> Option<u64> {
        self.finished().map(|f| f.frames)
    }

    /// The frame after its last one (`None` until done, or if it never ran).
    #[getter]
    fn ended_at(&self) -> Option<u64> {
        self.finished().and_then(|f| f.ended_at)
    }

    /// Frames by which its request arrived after its start frame (`None` until done).
    #[getter]
    fn late_by(&self) -> Option<u64> {
        self.finished().map(|f| f.late_by)
    }

    /// How it ended (`None` until done).
    #[getter]
    fn end(&self) -> Option<&'static str> {
        self.finished().map(|f| end_name(f.end))
    }

    /// The frame a cancel cut it at, for an action that ended `"cancelled"`.
    #[getter]
    fn cancelled_at(&self) -> Option<u64> {
        match self.finished()?.end {
            EndReason::Cancelled { at } => Some(at),
            _ => None,
        }
    }

    /// Its counters (a dict; for `fetch_and_reset_stats`, the stream's), `None` until done.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(f) = self.finished() else {
            return Ok(None);
        };
        if let Some(s) = &f.stream_stats {
            return stream_stats_dict(py, s).map(Some);
        }
        let s = &f.stats;
        let d = PyDict::new(py);
        d.set_item("blocks", s.blocks)?;
        d.set_item("min_block", s.min_block)?;
        d.set_item("max_block", s.max_block)?;
        d.set_item("xruns", s.xruns)?;
        d.set_item("frames_lost", s.frames_lost)?;
        d.set_item("missing", s.missing)?;
        d.set_item("dropped", s.dropped)?;
        d.set_item("faults", s.faults)?;
        d.set_item("lowest_level", s.lowest_level)?;
        Ok(Some(d))
    }

    /// A recording's samples, float32 `(frames, channels)`: the buffer the engine filled,
    /// handed to numpy without a copy. `None` until done, and for other actions.
    #[getter]
    fn recording(&self, py: Python<'_>) -> PyResult<Option<PyObject>> {
        if self.finished().is_none() {
            return Ok(None);
        }
        let cached = self.recording.get_or_try_init(py, || -> PyResult<_> {
            let taken = self
                .cell
                .recorded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            let Some(samples) = taken else {
                return Ok(None);
            };
            let channels = self.cell.channels.max(1);
            let frames = samples.len() / channels;
            let array = PyArray1::from_vec(py, samples).reshape([frames, channels])?;
            Ok(Some(array.into_any().unbind()))
        })?;
        Ok(cached.as_ref().map(|a| a.clone_ref(py)))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .downcast::<Action>()
            .is_ok_and(|o| o.get().cell.id == self.cell.id)
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.cell.id.hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        let frame = |f: Option<u64>| f.map_or_else(|| "None".to_owned(), |f| f.to_string());
        match self.finished() {
            None => format!(
                "<rtmix.Action {} requested_start={} pending>",
                self.cell.kind,
                frame(self.cell.requested_start)
            ),
            Some(f) => format!(
                "<rtmix.Action {} requested_start={} actual_start={} frames={} end={}>",
                self.cell.kind,
                frame(self.cell.requested_start),
                frame(f.actual_start),
                f.frames,
                end_name(f.end)
            ),
        }
    }
}
