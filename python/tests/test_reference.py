"""Random plays, records and cancels on Offline, processed in random block sizes, against
a plain numpy reference written from docs/features.md's definitions:

    out[t, ch] += sample * (gain * fade_in(p) * fade_out(p) * cancel_fade(t))

with p the play's own frame, fade_in(p) = p / N for p < N, fade_out(T - M + k) = 1 - k / M,
and a cancel at F with fade n: 1 - k / n at F + k, nothing from F + n on (a cut: nothing
from F on); a cancel before the play's start (or a cut at it) means it never starts. Samples are multiples of 1/64 and gains powers of two, so the sums are exact in
any order and the output must match bit for bit.
"""

import numpy as np
from hypothesis import given, settings, strategies as st

import rtmix

OUT = 3
IN = 2


@st.composite
def scenarios(draw):
    plays = []
    for _ in range(draw(st.integers(0, 6))):
        frames = draw(st.integers(1, 200))
        cols = draw(st.integers(1, 2))
        chans = draw(st.lists(st.integers(1, OUT), min_size=cols, max_size=cols, unique=True))
        ints = draw(st.lists(st.integers(-64, 64), min_size=frames * cols, max_size=frames * cols))
        buf = (np.array(ints, dtype=np.float32) / 64).reshape(frames, cols)
        fade_in = draw(st.sampled_from([0, 1, 2, 4, 8, 16]))
        fade_out = draw(st.sampled_from([0, 1, 2, 4, 8, 16]))
        if fade_in + fade_out > frames:
            fade_in = fade_out = 0
        cancel = None
        if draw(st.booleans()):
            cancel = (draw(st.integers(0, 400)), draw(st.sampled_from([0, 1, 2, 4, 8])))
        plays.append(
            dict(
                buf=buf,
                chans=chans,
                start=draw(st.integers(0, 300)),
                gain=draw(st.sampled_from([0.25, 0.5, 1.0, 2.0])),
                fade_in=fade_in,
                fade_out=fade_out,
                cancel=cancel,
            )
        )
    records = []
    for _ in range(draw(st.integers(0, 3))):
        chans = draw(st.lists(st.integers(1, IN), min_size=1, max_size=IN, unique=True))
        records.append(dict(start=draw(st.integers(0, 400)), frames=draw(st.integers(1, 100)), chans=chans))
    total = 520
    sizes = []
    while sum(sizes) < total:
        sizes.append(draw(st.one_of(st.integers(1, 8), st.integers(1, 64), st.integers(1, 3000))))
    return plays, records, sizes


def reference(plays, records, signal, total):
    out = np.zeros((total, OUT), dtype=np.float32)
    starts = []
    for p in plays:
        frames = p["buf"].shape[0]
        end = p["start"] + frames
        cancel_fade = np.ones(frames, dtype=np.float32)
        if p["cancel"] is not None:
            at, n = p["cancel"]
            if at < p["start"] or (at == p["start"] and n == 0):
                # Cut before it starts (or a cut, not a fade, at its start): it never
                # starts.
                cancel_fade[:] = 0
                starts.append(None)
            else:
                for i in range(frames):
                    t = p["start"] + i
                    if t >= at + n:
                        cancel_fade[i] = 0
                    elif t >= at:
                        cancel_fade[i] = np.float32(1) - np.float32(t - at) / np.float32(n)
                starts.append(p["start"])
        else:
            starts.append(p["start"])
        for i in range(frames):
            fi = np.float32(1) if i >= p["fade_in"] else np.float32(i) / np.float32(p["fade_in"])
            k = i - (frames - p["fade_out"])
            fo = np.float32(1) if k < 0 else np.float32(1) - np.float32(k) / np.float32(p["fade_out"])
            env = np.float32(p["gain"]) * fi * fo * cancel_fade[i]
            t = p["start"] + i
            if t < end and t < total:
                for c, ch in enumerate(p["chans"]):
                    out[t, ch - 1] += p["buf"][i, c] * env
    recs = [signal[r["start"] : r["start"] + r["frames"]][:, [c - 1 for c in r["chans"]]] for r in records]
    return out, starts, recs


def render(plays, records, signal, sizes):
    """Submits each request just before the block that holds its frame, as a live
    program would, and returns the output, the actions and the recordings."""
    m = rtmix.Offline(48000, OUT, IN, input=signal)
    todo = []
    for i, p in enumerate(plays):
        todo.append((p["start"], 0, i))
        if p["cancel"] is not None:
            todo.append((min(p["cancel"][0], p["start"]), 1, i))
    for i, r in enumerate(records):
        todo.append((r["start"], 2, i))
    todo.sort()
    play_actions = [None] * len(plays)
    rec_actions = [None] * len(records)
    blocks = []
    clock = 0
    for n in sizes:
        while todo and todo[0][0] < clock + n:
            _, what, i = todo.pop(0)
            if what == 0 and play_actions[i] is None:
                p = plays[i]
                play_actions[i] = m.play_buffer(
                    p["buf"], p["chans"], start=p["start"], gain=p["gain"],
                    fade_in=p["fade_in"], fade_out=p["fade_out"],
                )
            elif what == 1:
                p = plays[i]
                if play_actions[i] is None:
                    play_actions[i] = m.play_buffer(
                        p["buf"], p["chans"], start=p["start"], gain=p["gain"],
                        fade_in=p["fade_in"], fade_out=p["fade_out"],
                    )
                at, fade = p["cancel"]
                m.cancel(play_actions[i], start=at, fade=fade)
            elif what == 2:
                r = records[i]
                rec_actions[i] = m.record_buffer(r["frames"], r["chans"], start=r["start"])
        blocks.append(m.process(n))
        clock += n
    m.close()
    return np.concatenate(blocks), play_actions, rec_actions


@settings(max_examples=150)
@given(scenarios())
def test_random_plays_records_cancels_equal_the_numpy_reference_in_any_block_sizes(scenario):
    plays, records, sizes = scenario
    total = sum(sizes)
    signal = (np.arange(total * IN, dtype=np.float32) % 997).reshape(total, IN)
    out, play_actions, rec_actions = render(plays, records, signal, sizes)
    expected, starts, recs = reference(plays, records, signal, 520)
    np.testing.assert_array_equal(out[:520], expected)
    np.testing.assert_array_equal(out[520:], 0)
    for p, a, s in zip(plays, play_actions, starts):
        assert a.done
        assert a.requested_start == p["start"]
        assert a.actual_start == s, (a, p["cancel"])
        assert a.late_by == 0
        if p["cancel"] is None:
            assert a.end == "finished" and a.frames == p["buf"].shape[0]
    for r, a, want in zip(records, rec_actions, recs):
        assert a.actual_start == r["start"] and a.end == "finished"
        np.testing.assert_array_equal(a.recording, want)


@settings(max_examples=60)
@given(scenarios(), st.lists(st.integers(1, 4096), min_size=1, max_size=30))
def test_two_partitions_give_the_same_output_bit_for_bit(scenario, other):
    plays, records, sizes = scenario
    total = sum(sizes)
    other_sizes = []
    while sum(other_sizes) < total:
        other_sizes.append(other[len(other_sizes) % len(other)])
    signal = (np.arange(max(total, sum(other_sizes)) * IN, dtype=np.float32) % 997).reshape(-1, IN)
    a, _, ra = render(plays, records, signal, sizes)
    b, _, rb = render(plays, records, signal, other_sizes)
    n = min(len(a), len(b))
    assert a[:n].tobytes() == b[:n].tobytes()
    for x, y in zip(ra, rb):
        assert x.recording.tobytes() == y.recording.tobytes()
