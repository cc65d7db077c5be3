"""A paced device: `MixerAndRecorder` on the `rtmix_jack` ALSA PCM (fixtures/alsa/rtmix.conf)
through the loopback ports of a private `jackd -L 2 -d dummy` (server name `rtmix-python`)
started here and ended by its PID. What is played comes back through the loopback bit for bit; the play starts at
the frame asked; `wait` has no timeout, so only the engine's completion can end it.

The two ALSA jack PCMs are not linked, so the offset between the output and input clocks
is a whole number of JACK periods that varies between runs (docs/alsa.md): the test
finds the played noise in the recording and checks it sample for sample there.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PERIOD = 1024

CLIENT = textwrap.dedent(
    f"""
    import json, time
    import numpy as np
    import rtmix

    with rtmix.MixerAndRecorder(device="rtmix_jack", samplerate=48000, channels=(2, 2),
                                period={PERIOD}, periods=3) as d:
        deadline = time.monotonic() + 10
        while d.earliest is None:
            assert time.monotonic() < deadline, "the stream did not start"
            time.sleep(0.01)
        noise = (np.random.default_rng(7).integers(-2**14, 2**14, (3000, 2)) / 2**15).astype(np.float32)
        start = d.earliest + 8 * {PERIOD}
        play = d.play_buffer(noise, [1, 2], start=start)
        rec = d.record_buffer(3000 + 16 * {PERIOD}, [1, 2], start=start)
        d.wait(play)
        d.wait(rec)
        got = rec.recording
        hits = [k for k in range(0, got.shape[0] - 3000 + 1)
                if got[k, 0] == noise[0, 0] and np.array_equal(got[k:k + 3000], noise)]
        print(json.dumps(dict(
            requested=start, actual=play.actual_start, played=play.end, frames=play.frames,
            recorded=rec.end, rec_frames=rec.frames, rec_start=rec.actual_start, hits=hits,
        )))
    """
)


def _missing(why):
    """A missing prerequisite: a failure under CI=true, a skip that says so elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (CI=true: a missing prerequisite is a failure)")
    pytest.skip(why)


@pytest.fixture
def jack_server():
    """The running default server (the one .ci/run starts, `jackd -L 2 -d dummy -p 1024`),
    or else a private one started here (name `rtmix-python`, or $RTMIX_JACK_SERVER) and
    ended by its PID."""
    if shutil.which("jackd") is None or shutil.which("jack_wait") is None:
        _missing("jackd is not installed")
    check = subprocess.run(["jack_wait", "-c"], capture_output=True, text=True)
    if check.stdout.strip() == "running":  # it exits 0 either way
        yield None
        return
    # A fixed name: JACK's registry holds 8 servers, and the entry of one that was killed
    # is reclaimed only by a server of the same name.
    name = os.environ.get("RTMIX_JACK_SERVER", "rtmix-python")
    server = subprocess.Popen(
        ["jackd", "-n", name, "-L", "2", "-d", "dummy", "-r", "48000", "-p", str(PERIOD)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = subprocess.run(["jack_wait", "-s", name, "-w", "-t", "10"], capture_output=True)
        if ready.returncode != 0:
            server.kill()
            _missing("jackd did not come up: " + server.communicate()[1][:300].replace("\n", " "))
        yield name
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_duplex_loopback_plays_and_records_bit_for_bit(jack_server):
    import json

    env = dict(os.environ)
    if jack_server is not None:
        env["JACK_DEFAULT_SERVER"] = jack_server
    env["ALSA_CONFIG_PATH"] = "/usr/share/alsa/alsa.conf:" + os.path.join(ROOT, "fixtures", "alsa", "rtmix.conf")
    done = subprocess.run([sys.executable, "-c", CLIENT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    r = json.loads(done.stdout.strip().splitlines()[-1])
    assert r["actual"] == r["requested"] and r["played"] == "finished" and r["frames"] == 3000
    assert r["recorded"] == "finished" and r["rec_start"] == r["requested"]
    assert r["rec_frames"] == 3000 + 16 * PERIOD
    # The noise came back whole, exactly, once, a whole number of periods later.
    assert len(r["hits"]) == 1, r
    assert r["hits"][0] % PERIOD == 0, r
