"""Device streams on alsa-lib's `null` PCM (no sound card needed): it takes and gives
frames as fast as the loop runs, so these tests check completion, waking and closing, not
timing against a clock."""

import threading

import numpy as np
import pytest

import rtmix


def test_mixer_plays_a_buffer_and_wait_is_woken_by_its_completion():
    with rtmix.Mixer(device="null", samplerate=48000, channels=2, period=256, periods=3) as m:
        assert m.samplerate == 48000 and m.output_channels == 2 and m.input_channels == 0
        a = m.play_buffer(np.full((4800, 2), 0.1), [1, 2])
        # No timeout: only the engine's completion can end this wait.
        assert m.wait(a) is a
        assert a.end == "finished" and a.frames == 4800 and a.actual_start is not None
        assert m.frame is not None and m.frame >= a.actual_start
        assert m.granted[0] > 0


def test_close_completes_every_pending_action_stopped():
    m = rtmix.Mixer(device="null", channels=1)
    far = m.play_buffer(np.ones(10), 1, start=2**62)
    looping = m.play_buffer(np.ones(16), 1, repeat="forever")
    m.wait(m.play_buffer(np.ones(1), 1))  # submitted after the loop: it has started
    m.close()
    assert far.done and far.end == "stopped" and far.actual_start is None
    assert looping.done and looping.end == "stopped" and looping.frames > 0
    with pytest.raises(ValueError):
        m.play_buffer(np.ones(10), 1)


def test_recorder_records_exactly_the_frames_asked():
    with rtmix.Recorder(device="null", channels=2) as r:
        a = r.record_buffer(1000, [2, 1])
        r.wait(a, timeout=10)
        assert a.end == "finished" and a.frames == 1000
        assert a.recording.shape == (1000, 2) and a.recording.dtype == np.float32
        s = r.wait(r.fetch_and_reset_stats(), timeout=10)
        assert s.stats["direction"] == "input" and s.stats["frames"] > 0


def test_duplex_stream_plays_and_records():
    with rtmix.MixerAndRecorder(device="null", channels=(1, 2)) as d:
        assert (d.input_channels, d.output_channels) == (1, 2)
        p = d.play_buffer(np.ones(100), [2])
        r = d.record_buffer(100, [1])
        d.wait()
        assert p.end == r.end == "finished"
        offset = d.offset
        assert offset is None or offset["kind"] in ("exact", "estimate")


def test_one_thread_submits_while_another_waits_on_a_device():
    with rtmix.Mixer(device="null", channels=1) as m:
        actions = []
        lock = threading.Lock()
        done = threading.Event()

        def submitter():
            for _ in range(200):
                with lock:
                    actions.append(m.play_buffer(np.ones(64), 1))
            done.set()

        t = threading.Thread(target=submitter)
        t.start()
        waited = 0
        while not (done.is_set() and waited == len(actions)):
            with lock:
                pending = actions[waited:]
            for a in pending:
                assert m.wait(a, timeout=10).end == "finished"
                waited += 1
        t.join()
        assert waited == 200


def test_device_errors():
    with pytest.raises(rtmix.DeviceError):
        rtmix.Mixer(device="no_such_pcm_rtmix")
    with pytest.raises(rtmix.DeviceError, match="NoSuchHost"):
        rtmix.Mixer(device="null", backend="cpal", host="NoSuchHost")
    with pytest.raises(rtmix.DeviceError):
        rtmix.Mixer(device="no_such_pcm_rtmix", backend="cpal")
    with pytest.raises(ValueError):
        rtmix.Mixer(device="null", host="ALSA")  # hosts are cpal's
    with pytest.raises(ValueError):
        rtmix.Mixer(device="null", backend="jack")
    with pytest.raises(ValueError):
        rtmix.Mixer(device="null", channels=0)
    with pytest.raises(TypeError):
        rtmix.Mixer(device="null", channels="two")
    with rtmix.Mixer(device="null", channels=1) as m:
        with pytest.raises(TypeError, match="frame_at"):
            m.play_buffer([1.0], 1, start=1.5)
        with pytest.raises(ValueError):
            m.record_buffer(10, 1)  # a Mixer has no inputs


def test_the_audio_thread_runs_while_python_holds_the_gil():
    """The engine's thread never takes the GIL: with the switch interval at 10 s, a thread
    that asked for the GIL would wait that long while this one spins, yet the output meter
    (written by the audio thread itself, per block) counts millions of frames meanwhile.
    The null PCM is not paced: it takes billions of frames a second."""
    import sys
    import time

    with rtmix.Mixer(device="null", channels=1) as m:
        m.wait(m.play_buffer(np.ones(256), 1))  # running
        old = sys.getswitchinterval()
        sys.setswitchinterval(10.0)
        try:
            m.meters  # read: resets the count
            end = time.monotonic() + 0.3
            while time.monotonic() < end:  # pure Python: the GIL is never released
                pass
            frames = m.meters["output"][0]["frames"]
        finally:
            sys.setswitchinterval(old)
        assert frames > 10_000_000, frames


@pytest.mark.parametrize("cls, channels", [("Mixer", 2), ("Recorder", 1), ("MixerAndRecorder", (1, 2))])
def test_the_cpal_backend_runs_each_kind_of_stream(cls, channels):
    with getattr(rtmix, cls)(device="null", channels=channels, backend="cpal", host="ALSA") as s:
        actions = []
        if s.output_channels:
            actions.append(s.play_buffer(np.full((480, 1), 0.1), [1]))
        if s.input_channels:
            actions.append(s.record_buffer(480, [1]))
        for a in actions:
            assert s.wait(a, timeout=10).end == "finished" and a.frames == 480
        far = (s.play_buffer if s.output_channels else s.record_buffer)(
            np.ones(4) if s.output_channels else 4, 1, start=2**62
        )
    assert far.end == "stopped" and far.actual_start is None
