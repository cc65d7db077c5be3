#!/usr/bin/env python3
"""rtmix beside python-rtmixer on one JACK dummy loopback (docs/python.md, "Side by side").

Each run opens a duplex stream, schedules 50 one-frame clicks 0.1 s apart, records
across them through the loopback (`jackd -L 2 -d dummy`: what is played to
loopback:playback_1 comes back on loopback:capture_1), and finds each click in the
recording. Its round trip is where it lands minus where it was scheduled; a library whose
start times are exact lands every click at the same round trip.

Usage (a JACK server with loopback ports must run; JACK_DEFAULT_SERVER names it):
    python python/bench/side_by_side.py rtmix [RUNS]      (the rtmix package installed)
    python python/bench/side_by_side.py rtmixer [RUNS]    (pip install rtmixer; libportaudio2)
Prints one JSON line per run and a summary line.

    python python/bench/side_by_side.py wakeup [TIMES]

measures rtmix's `wait` wake-up without a device: one thread waits for an action while
another runs the `process()` that completes it; the figure is the time from the start of
that `process()` to the waiter running again (the process call itself included).
"""

import json
import os
import subprocess
import sys
import time

import numpy as np

RATE = 48000
CLICKS = 50
SPACING = 4800  # frames between clicks (0.1 s)
PERIOD = 1024
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def positions(recording, lead):
    """The frame of each click in a mono recording, relative to its scheduled frame."""
    out = []
    for i in range(CLICKS):
        window = recording[lead + i * SPACING : lead + (i + 1) * SPACING]
        k = int(np.argmax(np.abs(window)))
        out.append(k if window[k] != 0 else None)
    return out


def run_rtmix():
    os.environ.setdefault(
        "ALSA_CONFIG_PATH", "/usr/share/alsa/alsa.conf:" + os.path.join(ROOT, "fixtures/alsa/rtmix.conf")
    )
    import rtmix

    click = np.array([[0.5]], dtype=np.float32)
    with rtmix.MixerAndRecorder(device="rtmix_jack", samplerate=RATE, channels=(2, 2), period=PERIOD, periods=3) as d:
        deadline = time.monotonic() + 10
        while d.earliest is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        start = d.earliest + 8 * PERIOD
        calls = []
        plays = []
        for i in range(CLICKS):
            t = time.perf_counter()
            plays.append(d.play_buffer(click, [1], start=start + i * SPACING))
            calls.append(time.perf_counter() - t)
        rec = d.record_buffer(CLICKS * SPACING + 4 * PERIOD, [1], start=start)
        d.wait(rec)
        waits = []
        for p in plays:
            t = time.perf_counter()
            d.wait(p)
            waits.append(time.perf_counter() - t)
        exact = all(p.actual_start == p.requested_start for p in plays)
        found = positions(rec.recording[:, 0], 0)
        return dict(
            library="rtmix", round_trips=found, reported_exact=exact,
            play_buffer_us=1e6 * float(np.median(calls)),
            wait_finished_us=1e6 * float(np.median(waits)),
        )


def run_rtmixer():
    import rtmixer
    import sounddevice as sd

    jack = [i for i, d in enumerate(sd.query_devices())
            if "JACK" in sd.query_hostapis(d["hostapi"])["name"] and d["max_output_channels"] > 0]
    assert jack, "no JACK device in PortAudio"
    m = rtmixer.MixerAndRecorder(device=jack[0], channels=2, samplerate=RATE, blocksize=PERIOD, qsize=128)
    with m:
        ports = subprocess.run(["jack_lsp"], capture_output=True, text=True).stdout.split("\n")
        mine = [p for p in ports if p.startswith("PortAudio")]
        outs = [p for p in mine if "out" in p]
        ins = [p for p in mine if "in" in p]
        subprocess.run(["jack_connect", outs[0], "loopback:playback_1"], check=True)
        subprocess.run(["jack_connect", "loopback:capture_1", ins[0]], check=True)
        time.sleep(0.5)
        click = np.array([[0.5]], dtype=np.float32)
        start = m.time + 0.5
        calls = []
        plays = []
        for i in range(CLICKS):
            t = time.perf_counter()
            plays.append(m.play_buffer(click, [1], start=start + i * SPACING / RATE))
            calls.append(time.perf_counter() - t)
        buf = np.zeros((CLICKS * SPACING + 4 * PERIOD, 1), dtype=np.float32)
        rec = m.record_buffer(buf, [1], start=start)
        m.wait(rec)
        waits = []
        for p in plays:
            t = time.perf_counter()
            m.wait(p)
            waits.append(time.perf_counter() - t)
        # What rtmixer reports: actual_time of each click (seconds) against the request.
        reported = [round((p.actual_time - p.requested_time) * RATE, 2) for p in plays]
        rec_lag = round((rec.actual_time - rec.requested_time) * RATE, 2)
        # Clicks land relative to the recording's actual start: re-anchor both.
        found = positions(buf[:, 0], 0)
        return dict(
            library="rtmixer", round_trips=found, reported_frames_late=reported,
            record_reported_frames_late=rec_lag,
            play_buffer_us=1e6 * float(np.median(calls)),
            wait_finished_us=1e6 * float(np.median(waits)),
        )


def wakeup(times):
    import threading

    import rtmix

    m = rtmix.Offline(RATE, 1)
    lags = []
    for _ in range(times):
        a = m.play_buffer(np.ones(1, dtype=np.float32), 1, start=m.frame)
        woke = []

        def waiter():
            m.wait(a, timeout=10)
            woke.append(time.perf_counter())

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.002)  # the waiter is asleep by now
        t0 = time.perf_counter()
        m.process(64)
        t.join()
        lags.append(woke[0] - t0)
    lags = np.array(lags) * 1e6
    print(json.dumps(dict(
        library="rtmix", wakeups=times, median_us=float(np.median(lags)),
        p90_us=float(np.percentile(lags, 90)), max_us=float(lags.max()),
    )))


def main():
    which = sys.argv[1]
    if which == "wakeup":
        wakeup(int(sys.argv[2]) if len(sys.argv) > 2 else 200)
        return
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    results = []
    for _ in range(runs):
        r = run_rtmix() if which == "rtmix" else run_rtmixer()
        rts = [x for x in r["round_trips"] if x is not None]
        r["found"] = len(rts)
        r["spread"] = (max(rts) - min(rts)) if rts else None
        r["first"] = rts[0] if rts else None
        print(json.dumps({k: v for k, v in r.items() if k != "round_trips"}), flush=True)
        results.append(r)
    spreads = [r["spread"] for r in results]
    firsts = [r["first"] for r in results]
    print(json.dumps(dict(
        library=which, runs=runs, spreads_within_runs=spreads, round_trip_per_run=firsts,
        play_buffer_us=float(np.median([r["play_buffer_us"] for r in results])),
        wait_finished_us=float(np.median([r["wait_finished_us"] for r in results])),
    )))


if __name__ == "__main__":
    main()
