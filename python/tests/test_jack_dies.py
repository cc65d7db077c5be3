"""A device that disappears mid-stream: a `Mixer` and a `Recorder` on the `rtmix_jack` ALSA
PCM of a private `jackd -d dummy` (server name `rtmix-dies`, shared with rtmix-alsa's jack_dies.rs), which the test kills
by its PID while a long play and a long recording run. Every action must complete, with a
reason, and `wait` (without a timeout) must return: nothing is lost, nothing hangs; the
recording comes back, its `frames` captured and nothing after them; closing says the device
failed.

The client runs in a child process that reports on stdout when its stream runs, so the
server is killed only once both directions have started (a readiness signal, not a sleep).
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from test_jack import ROOT, PERIOD, _missing

CLIENT = textwrap.dedent(
    f"""
    import json, sys, time
    import numpy as np
    import rtmix

    out = rtmix.Mixer(device="rtmix_jack", samplerate=48000, channels=2, period={PERIOD}, periods=3)
    inp = rtmix.Recorder(device="rtmix_jack", samplerate=48000, channels=2, period={PERIOD}, periods=3)
    deadline = time.monotonic() + 10
    while out.earliest is None or inp.earliest is None:
        assert time.monotonic() < deadline, "the streams did not start"
        time.sleep(0.01)
    # Sixty seconds of each: far longer than the test waits.
    play = out.play_buffer(np.full((48000 * 60, 2), 0.25, np.float32), [1, 2])
    rec = inp.record_buffer(48000 * 60, [1, 2])
    # Readiness: a short recording, submitted after the long ones, has completed, so both
    # long actions are under way.
    inp.wait(inp.record_buffer(2 * {PERIOD}, [1, 2]))
    print("running", flush=True)
    t0 = time.monotonic()
    out.wait(play)
    inp.wait(rec)
    waited = time.monotonic() - t0
    errors = []
    for d in (out, inp):
        try:
            d.close()
        except rtmix.DeviceError as e:
            errors.append(str(e))
    print(json.dumps(dict(
        played=play.end, play_frames=play.frames, recorded=rec.end, rec_frames=rec.frames,
        recording=None if rec.recording is None else list(rec.recording.shape),
        untouched_after=bool(not np.any(rec.recording[rec.frames:])),
        waited=waited, errors=errors,
    )), flush=True)
    """
)


def test_a_server_killed_mid_stream_completes_every_action_with_a_reason():
    import shutil

    if shutil.which("jackd") is None or shutil.which("jack_wait") is None:
        _missing("jackd is not installed")
    # The name of rtmix-alsa's jack_dies.rs, whose SIGKILLed server left its entry in JACK's
    # registry (8 servers at most; a dead entry is reclaimed only by its own name).
    name = "rtmix-dies"
    server = subprocess.Popen(
        ["jackd", "-n", name, "-L", "2", "-d", "dummy", "-r", "48000", "-p", str(PERIOD)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = None
    try:
        ready = subprocess.run(["jack_wait", "-s", name, "-w", "-t", "10"], capture_output=True)
        if ready.returncode != 0:
            _missing("jackd did not come up")
        env = dict(os.environ)
        env["JACK_DEFAULT_SERVER"] = name
        env["ALSA_CONFIG_PATH"] = "/usr/share/alsa/alsa.conf:" + os.path.join(
            ROOT, "fixtures", "alsa", "rtmix.conf"
        )
        client = subprocess.Popen(
            [sys.executable, "-c", CLIENT],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = client.stdout.readline()
        assert line.strip() == "running", client.stderr.read()[-3000:]
        server.send_signal(signal.SIGKILL)
        server.wait()
        out, err = client.communicate(timeout=60)
        assert client.returncode == 0, err[-3000:]
        r = json.loads(out.strip().splitlines()[-1])
        # Both actions completed, stopped by the stream's end, with what they had done.
        assert r["played"] == "stopped", r
        assert r["recorded"] == "stopped", r
        assert 0 < r["play_frames"] < 48000 * 60, r
        assert 0 < r["rec_frames"] < 48000 * 60, r
        # The recording comes back at the length asked, holding the frames it captured
        # (`frames` of them) and nothing after them.
        assert r["recording"] == [48000 * 60, 2], r
        assert r["untouched_after"], r
        # Both streams say their device failed when closed.
        assert len(r["errors"]) == 2, r
    finally:
        if client is not None and client.poll() is None:
            client.kill()
            client.wait()
        if server.poll() is None:
            server.kill()
            server.wait()
