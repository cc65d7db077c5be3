"""Rings, repeats, cancels, stats, waits, threads, and every refused input."""

import threading
import time

import numpy as np
import pytest

import rtmix


def test_ring_underflow_plays_silence_is_counted_and_playback_goes_on():
    m = rtmix.Offline(48000, 1)
    ring = rtmix.RingBuffer(1, 64)
    assert ring.write(np.full(10, 0.5, dtype=np.float32)) == 10
    a = m.play_ringbuffer(ring, [1], start=4)
    first = m.process(20)[:, 0]
    np.testing.assert_array_equal(first[4:14], 0.5)
    np.testing.assert_array_equal(first[14:], 0.0)  # dry: silence
    assert not a.done  # and it goes on
    assert ring.write(np.full(5, 0.25, dtype=np.float32)) == 5
    second = m.process(10)[:, 0]
    np.testing.assert_array_equal(second[:5], 0.25)  # later samples play when they arrive
    np.testing.assert_array_equal(second[5:], 0.0)
    m.cancel(a, start=40)
    m.process(20)
    assert m.wait(a).end == "cancelled"
    assert a.actual_start == 4 and a.frames == 36
    assert a.stats["missing"] == 36 - 15
    # The ring has its reading end back: it can be played again.
    assert ring.write(np.ones(3, dtype=np.float32)) == 3
    b = m.play_ringbuffer(ring, 1, start=m.frame)
    out = m.process(4)[:, 0]
    np.testing.assert_array_equal(out, [1, 1, 1, 0])
    m.cancel(b)
    m.process(1)
    assert m.wait(b).end == "cancelled"


def test_ring_recording_reads_back_every_frame_in_order():
    signal = np.arange(200, dtype=np.float32).reshape(100, 2)
    m = rtmix.Offline(48000, 1, 2, input=signal)
    ring = rtmix.RingBuffer(2, 32)
    a = m.record_ringbuffer(ring, [2, 1], start=10)
    got = []
    for _ in range(10):
        m.process(7)
        got.append(ring.read())
    m.cancel(a, start=m.frame)
    m.process(1)
    m.wait(a)
    got.append(ring.read())
    data = np.concatenate(got)
    assert a.actual_start == 10 and a.frames == 60 and a.stats["dropped"] == 0
    np.testing.assert_array_equal(data, signal[10:70][:, [1, 0]])
    # readinto
    ring2 = rtmix.RingBuffer(2, 8)
    ring2.write(signal[:5])
    dest = np.zeros((8, 2), dtype=np.float32)
    assert ring2.read_available == 5 and ring2.write_available == 3
    assert ring2.readinto(dest) == 5
    np.testing.assert_array_equal(dest[:5], signal[:5])
    assert ring2.read_available == 0


def test_a_ring_in_use_refuses_the_other_side_and_a_second_action():
    m = rtmix.Offline(48000, 1, 1)
    ring = rtmix.RingBuffer(1, 8)
    m.play_ringbuffer(ring, 1)
    with pytest.raises(ValueError):
        ring.read(1)
    with pytest.raises(ValueError):
        m.play_ringbuffer(ring, 1)
    with pytest.raises(ValueError):
        m.play_ringbuffer(rtmix.RingBuffer(2, 8), 1)  # channel count


def test_repeat_region_gain_and_forever():
    m = rtmix.Offline(48000, 1)
    buf = np.arange(1, 9, dtype=np.float32) / 8
    a = m.play_buffer(buf, 1, start=0, region=(2, 5), repeat=3, gain=0.5)
    b = m.play_buffer([1.0, 2.0], 1, start=20, repeat="forever")
    out = m.process(30)[:, 0]
    np.testing.assert_array_equal(out[:9], np.tile(buf[2:5], 3) * 0.5)
    np.testing.assert_array_equal(out[9:20], 0)
    np.testing.assert_array_equal(out[20:30], [1, 2] * 5)
    m.cancel(b, start=33, fade=4)
    out = m.process(10)[:, 0]
    np.testing.assert_array_equal(out[:3], [1, 2, 1])
    np.testing.assert_array_equal(out[3:7], np.float32([2, 1, 2, 1]) * np.float32([1, 0.75, 0.5, 0.25]))
    np.testing.assert_array_equal(out[7:], 0)
    assert (a.frames, a.end) == (9, "finished")
    assert (m.wait(b).end, b.frames, b.cancelled_at) == ("cancelled", 17, 37)


def test_late_requests_start_at_once_or_are_dropped():
    m = rtmix.Offline(48000, 1)
    m.process(100)
    a = m.play_buffer([1.0], 1, start=50)
    b = m.play_buffer([1.0], 1, start=50, allow_belated=False)
    out = m.process(4)[:, 0]
    assert out[0] == 1.0 and out[1:].sum() == 0
    assert (a.actual_start, a.late_by, a.end) == (100, 50, "finished")
    assert (b.actual_start, b.end) == (None, "late")


def test_asap_play_starts_at_the_next_block():
    m = rtmix.Offline(48000, 1)
    m.process(7)
    a = m.play_buffer([0.5], 1)
    assert a.requested_start is None
    m.process(3)
    assert a.actual_start == 7


def test_stats_fetch_and_close_stops_what_runs():
    m = rtmix.Offline(48000, 2)
    s = m.fetch_and_reset_stats(start=10)
    assert m.stats is None
    m.process(4)
    m.process(16)
    assert m.wait(s).stats["blocks"] == 1 and s.stats["frames"] == 4
    assert m.stats["frames"] == 4
    loop = m.play_buffer(np.ones((4, 2)), [1, 2], repeat="forever")
    m.process(6)
    m.close()
    assert loop.end == "stopped" and loop.frames == 6
    with pytest.raises(ValueError):
        m.play_buffer([1.0], 1)
    with pytest.raises(ValueError):
        m.process(1)


def test_meters_read_peak_and_reset():
    m = rtmix.Offline(48000, 2)
    m.play_buffer([0.5, -1.0, 0.25], [2], start=0)
    m.process(8)
    levels = m.meters["output"]
    assert levels[0]["peak"] == 0.0 and levels[1]["peak"] == 1.0 and levels[1]["frames"] == 8
    assert m.meters["output"][1]["frames"] == 0


# Two plays on a stereo stream whose sums overflow to infinity twice (non-finite), and
# with two samples beyond [-1, 1]: LOUD from frame 1, BIG from frame 2.
LOUD = np.array([[0.5, 2.0], [3e38, -0.25], [-3.0, 3e38]], dtype=np.float32)
BIG = np.array([[3e38, 0.75], [0.0, 3e38]], dtype=np.float32)


def render_loud_and_big(**options):
    """Plays LOUD and BIG on an Offline stream opened with `options`, renders 11 frames in
    blocks of 1, 3, 2 and 5, and returns the stream, the output and its stats."""
    m = rtmix.Offline(48000, 2, **options)
    m.play_buffer(LOUD, [1, 2], start=1)
    m.play_buffer(BIG, [1, 2], start=2)
    out = np.concatenate([m.process(n) for n in (1, 3, 2, 5)])
    s = m.fetch_and_reset_stats()
    m.process(1)
    return m, out, m.wait(s).stats


def test_a_stream_without_meters_plays_and_counts_the_same_and_refuses_meters():
    metered, out, stats = render_loud_and_big(meters=True)
    plain, out_plain, stats_plain = render_loud_and_big(meters=False)
    np.testing.assert_array_equal(out.view(np.uint32), out_plain.view(np.uint32))
    assert (stats["non_finite"], stats["clipped"]) == (2, 2)
    assert (stats_plain["non_finite"], stats_plain["clipped"]) == (2, 2)
    assert metered.meters["output"][1]["peak"] == 2.0  # measured after protection
    with pytest.raises(RuntimeError, match="meters=False"):
        plain.meters


def test_an_unprotected_stream_sends_the_mix_as_summed_and_counts_nothing():
    summed = np.zeros((11, 2), dtype=np.float32)
    with np.errstate(over="ignore"):
        summed[1:4] += LOUD
        summed[2:4] += BIG
    assert np.isinf(summed).sum() == 2
    _, out, stats = render_loud_and_big(meters=False, protect_output=False)
    np.testing.assert_array_equal(out.view(np.uint32), summed.view(np.uint32))
    assert (stats["non_finite"], stats["clipped"]) == (0, 0)
    # Protected (the default): the infinities become 0 and both kinds are counted.
    _, out, stats = render_loud_and_big(meters=False)
    protected = np.where(np.isfinite(summed), summed, np.float32(0.0))
    np.testing.assert_array_equal(out.view(np.uint32), protected.view(np.uint32))
    assert (stats["non_finite"], stats["clipped"]) == (2, 2)


def test_a_full_queue_raises_queuefull_and_loses_nothing():
    m = rtmix.Offline(48000, 1, actions=4)
    buf = np.full(5, 0.5, dtype=np.float32)
    accepted = [m.play_buffer(buf, 1, start=i * 10) for i in range(3)]
    with pytest.raises(rtmix.QueueFull):
        m.play_buffer(buf, 1, start=100)
    np.testing.assert_array_equal(buf, 0.5)  # the caller's buffer is untouched
    ring = rtmix.RingBuffer(1, 4)
    with pytest.raises(rtmix.QueueFull):
        m.play_ringbuffer(ring, 1)
    assert ring.write([1.0]) == 1 and ring.read_available == 1  # its end came back
    m.process(40)
    for a in accepted:
        assert m.wait(a).end == "finished"
    # Room again: accepted, and played.
    late = m.play_buffer(buf, 1, start=50)
    out = m.process(20)[:, 0]
    np.testing.assert_array_equal(out[10:15], 0.5)
    assert late.actual_start == 50


def test_every_accepted_request_completes_exactly_once():
    m = rtmix.Offline(48000, 2, 1, actions=8)
    actions = []
    rng = np.random.default_rng(1)
    for _ in range(300):
        start = m.frame + int(rng.integers(0, 50))
        try:
            if rng.random() < 0.7:
                actions.append(m.play_buffer(np.ones(int(rng.integers(1, 40))), [int(rng.integers(1, 3))], start=start))
            else:
                actions.append(m.record_buffer(int(rng.integers(1, 40)), 1, start=start))
        except rtmix.QueueFull:
            pass
        m.process(int(rng.integers(1, 30)))
    m.close()
    assert len(actions) > 100
    assert all(a.done and a.end in ("finished", "stopped") for a in actions)
    assert len({id(a) for a in actions}) == len(actions)


def test_offline_wait_raises_for_an_action_that_needs_more_process():
    m = rtmix.Offline(48000, 1)
    a = m.play_buffer([1.0], 1, start=10)
    with pytest.raises(rtmix.WouldBlock):
        m.wait(a)
    with pytest.raises(rtmix.WouldBlock):
        m.wait()
    with pytest.raises(TimeoutError):
        m.wait(a, timeout=0.05)
    m.process(11)
    assert m.wait(a) is a and a.done
    assert m.wait() is None


def test_one_thread_submits_and_processes_while_another_waits():
    m = rtmix.Offline(48000, 1)
    submitted = []
    ready = threading.Event()
    stop = threading.Event()

    def audio():
        for i in range(200):
            submitted.append(m.play_buffer([0.5] * 8, 1, start=m.frame + 5))
            if i == 0:
                ready.set()
            m.process(16)
            time.sleep(0.001)
        stop.set()

    t = threading.Thread(target=audio)
    t.start()
    ready.wait()
    waited = 0
    while not stop.is_set() or waited < len(submitted):
        if waited < len(submitted):
            # Blocks with the GIL released: the other thread keeps processing.
            a = m.wait(submitted[waited], timeout=10)
            assert a.end == "finished" and a.frames == 8
            waited += 1
    t.join()
    assert waited == 200


def test_wait_is_woken_by_the_completion_not_by_its_timeout():
    m = rtmix.Offline(48000, 1)
    a = m.play_buffer([0.5], 1, start=100)

    def later():
        time.sleep(0.2)
        m.process(200)

    t = threading.Thread(target=later)
    t0 = time.monotonic()
    t.start()
    m.wait(a, timeout=30)
    elapsed = time.monotonic() - t0
    t.join()
    assert a.done and 0.15 < elapsed < 5


# Refused inputs: each a clear TypeError, ValueError or rtmix.QueueFull, and nothing queued.


@pytest.fixture
def dev():
    return rtmix.Offline(48000, 2, 2)


def test_a_float_start_is_refused_pointing_to_frame_at(dev):
    with pytest.raises(TypeError, match="frame_at"):
        dev.play_buffer([1.0], 1, start=0.5)
    with pytest.raises(TypeError, match="frame_at"):
        dev.record_buffer(4, 1, start=np.float64(3))
    with pytest.raises(TypeError, match="frame_at"):
        dev.cancel(dev.play_buffer([1.0], 1), start=1.0)
    assert dev.frame_at(0.5) == 24000
    a = dev.play_buffer([1.0], 1, start=np.int64(3))
    assert a.requested_start == 3


@pytest.mark.parametrize(
    "channels, error",
    [
        (0, ValueError),
        ([0], ValueError),
        ([3], ValueError),
        ([-1], ValueError),
        ([1, 1], ValueError),
        ([], ValueError),
        (1.0, TypeError),
        ("1", TypeError),
        (True, TypeError),
    ],
)
def test_bad_channels_are_refused(dev, channels, error):
    with pytest.raises(error):
        dev.play_buffer([1.0], channels)
    with pytest.raises(error):
        dev.record_buffer(4, channels)


def test_bad_buffers_are_refused(dev):
    with pytest.raises(ValueError, match="columns"):
        dev.play_buffer(np.ones((4, 2)), [1])
    with pytest.raises(ValueError, match="NaN"):
        dev.play_buffer([1.0, np.nan], 1)
    with pytest.raises(ValueError, match="NaN"):
        dev.play_buffer([1.0, np.inf], 1)
    with pytest.raises(TypeError):
        dev.play_buffer(["a", "b"], 1)
    with pytest.raises(TypeError):
        dev.play_buffer(np.ones(3, dtype=complex), 1)
    with pytest.raises(TypeError):
        dev.play_buffer([object()], 1)
    with pytest.raises(ValueError, match="shape"):
        dev.play_buffer(np.ones((2, 2, 2)), [1, 2])
    with pytest.raises(ValueError):
        dev.record_buffer(np.ones((4, 3)), [1, 2])
    with pytest.raises(ValueError):
        dev.record_buffer(0, 1)
    with pytest.raises(TypeError):
        dev.record_buffer(4.0, 1)
    # int and float64 buffers convert
    a = dev.play_buffer(np.array([1, 0], dtype=np.int16), 1, start=0)
    b = dev.play_buffer(np.array([[0.5, 0.25]]), [1, 2], start=0)
    out = dev.process(2)
    np.testing.assert_array_equal(out, [[1.5, 0.25], [0, 0]])
    assert a.done and b.done


def test_bad_play_settings_are_refused(dev):
    with pytest.raises(ValueError):
        dev.play_buffer([1.0], 1, repeat=0)
    with pytest.raises(ValueError):
        dev.play_buffer([1.0], 1, repeat="always")
    with pytest.raises(TypeError):
        dev.play_buffer([1.0], 1, repeat=2.0)
    with pytest.raises(ValueError):
        dev.play_buffer([1.0], 1, gain=float("nan"))
    with pytest.raises(ValueError):
        dev.play_buffer([1.0, 1.0], 1, region=(1, 5))
    with pytest.raises(ValueError):
        dev.play_buffer([1.0, 1.0], 1, fade_in=5)
    with pytest.raises(ValueError):
        dev.play_buffer([1.0], 1, start=-1)
    with pytest.raises(TypeError):
        dev.play_buffer([1.0], 1, start="now")
    with pytest.raises(ValueError):
        dev.wait(dev.play_buffer([1.0], 1), timeout=-1)
    # Nothing refused was queued: only the one accepted play ends up in the output.
    out = dev.process(4)
    assert out.sum() == 1.0


def test_a_stream_without_inputs_refuses_recordings():
    m = rtmix.Offline(48000, 2)
    with pytest.raises(ValueError):
        m.record_buffer(4, 1)
    with pytest.raises(ValueError):
        rtmix.Offline(48000, 0, 0)
    with pytest.raises(ValueError):
        rtmix.Offline(48000, 1, 1, input=np.ones((4, 2)))


def test_context_manager_closes():
    with rtmix.Offline(48000, 1) as m:
        a = m.play_buffer([1.0] * 10, 1)
        m.process(4)
    assert a.end == "stopped" and a.frames == 4


def test_actions_lists_what_is_pending():
    m = rtmix.Offline(48000, 1)
    a = m.play_buffer([1.0] * 4, 1, start=0)
    b = m.play_buffer([1.0] * 4, 1, start=10)
    assert set(m.actions) == {a, b}
    m.process(5)
    assert m.actions == [b] and b in m.actions and a not in m.actions
    m.process(10)
    assert m.actions == []


@pytest.mark.parametrize(
    "cancel_at, fade, expected, start",
    [
        (6, 4, [0, 0, 0, 0], None),  # before the start: it never starts
        (10, 0, [0, 0, 0, 0], None),  # a cut at the start: nothing plays
        (10, 1, [1, 0, 0, 0], 10),  # a fade at the start plays its frames
        (10, 4, [1, 0.75, 0.5, 0.25], 10),
    ],
)
def test_a_cancel_at_or_before_the_start(cancel_at, fade, expected, start):
    m = rtmix.Offline(48000, 1)
    a = m.play_buffer(np.ones(8), 1, start=10)
    m.cancel(a, start=cancel_at, fade=fade)
    out = m.process(16)[:, 0]
    np.testing.assert_array_equal(out[10:14], expected)
    np.testing.assert_array_equal(out[14:], 0)
    assert a.actual_start == start and a.end == "cancelled"


def test_render_returns_the_sessions_output_in_any_block_size():
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "sessions", "demo.toml")
    out = rtmix.render(path)
    assert out.dtype == np.float32 and out.shape == (201600, 2)  # 4.2 s at 48 kHz, stereo
    assert np.abs(out).max() > 0.1
    assert rtmix.render(path, blocks=7).tobytes() == out.tobytes()
    with pytest.raises(ValueError):
        rtmix.render(path + ".missing")
    with pytest.raises(ValueError):
        rtmix.render(path, blocks=0)


def test_query_devices_lists_alsa_pcms():
    devices = rtmix.query_devices()
    assert isinstance(devices, list)
    names = {(d["backend"], d["name"]) for d in devices}
    assert ("alsa", "null") in names  # alsa-lib's null PCM is always configured
    for i, d in enumerate(devices):
        assert d["index"] == i
        assert {"max_input_channels", "max_output_channels", "default_samplerate", "host"} <= set(d)


def test_ctrl_c_interrupts_a_wait():
    """A wait that nothing will end (a timeout of 60 s on Offline, no process()) ends with
    KeyboardInterrupt soon after SIGINT."""
    import signal
    import subprocess
    import sys

    # Python leaves SIGINT alone when its parent started it ignored (a shell's background
    # job does), so the child installs the usual handler itself. The signal is sent once
    # the child, past its "waiting", sleeps (its state in /proc): in the wait.
    code = (
        "import signal, time, rtmix\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "m = rtmix.Offline(48000, 1)\n"
        "a = m.play_buffer([1.0], 1, start=10)\n"
        "t = time.monotonic()\n"
        "try:\n"
        "    print('waiting', flush=True)\n"
        "    m.wait(a, timeout=60)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', round(time.monotonic() - t, 3), flush=True)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "waiting"
    deadline = time.monotonic() + 20
    while open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "S":
        assert time.monotonic() < deadline, "the child never went to sleep in its wait"
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=20)
    words = out.split()
    assert words[0] == "interrupted", out
    assert float(words[1]) < 5


def test_dropping_the_device_completes_its_actions():
    import gc

    m = rtmix.Offline(48000, 1)
    a = m.play_buffer([1.0] * 10, 1)
    m.process(4)
    del m
    gc.collect()
    assert a.done and a.end == "stopped" and a.frames == 4
