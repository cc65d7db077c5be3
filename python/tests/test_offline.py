"""The offline device: exact frames, partitions, plays, recordings, rings."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import rtmix


def run(device, sizes):
    """Processes blocks of the given sizes and returns the concatenated output."""
    return np.concatenate([device.process(n) for n in sizes])


def test_play_lands_at_its_frame():
    m = rtmix.Offline(48000, 2)
    a = m.play_buffer(np.full(4, 0.5, dtype=np.float32), [2], start=5)
    out = run(m, [3, 1, 7, 5])
    expected = np.zeros((16, 2), dtype=np.float32)
    expected[5:9, 1] = 0.5
    np.testing.assert_array_equal(out, expected)
    assert m.wait(a) is a
    assert (a.requested_start, a.actual_start, a.frames, a.end) == (5, 5, 4, "finished")


@given(
    start=st.integers(0, 5000),
    block=st.integers(1, 3000),
    length=st.integers(1, 300),
)
def test_a_play_at_any_frame_lands_on_that_sample_whatever_the_block_size(start, block, length):
    m = rtmix.Offline(44100, 1)
    ramp = (np.arange(length, dtype=np.float32) + 1) / 512
    a = m.play_buffer(ramp, 1, start=start)
    total = start + length + 1
    sizes = [block] * (total // block) + [total % block]
    out = run(m, [s for s in sizes if s])[:, 0]
    np.testing.assert_array_equal(out[:start], 0)
    np.testing.assert_array_equal(out[start : start + length], ramp)
    np.testing.assert_array_equal(out[start + length :], 0)
    assert a.actual_start == start and a.frames == length and a.end == "finished"


@given(
    start=st.integers(0, 2000),
    frames=st.integers(1, 500),
    block=st.integers(1, 1000),
    channels=st.sampled_from([[1], [2], [2, 1], [3, 1, 2]]),
)
def test_a_recording_captures_exactly_the_frames_asked(start, frames, block, channels):
    total = start + frames + 5
    signal = np.arange(total * 3, dtype=np.float32).reshape(total, 3)
    m = rtmix.Offline(48000, 1, 3, input=signal)
    r = m.record_buffer(frames, channels, start=start)
    done = 0
    while done < total:
        n = min(block, total - done)
        m.process(n)
        done += n
    m.wait(r)
    cols = [c - 1 for c in channels]
    assert r.recording.dtype == np.float32
    assert r.recording.shape == (frames, len(channels))
    np.testing.assert_array_equal(r.recording, signal[start : start + frames][:, cols])
    assert (r.actual_start, r.frames, r.end) == (start, frames, "finished")
