#!/usr/bin/env bash
# Shifts the engine by one frame in several places, one at a time, and checks that the
# property suites fail for each. Run on demand (each mutant rebuilds): bash host-tests/mutants.sh
# It restores core/ with `git checkout` after each mutant, so commit your work first.
set -u
cd "$(dirname "$0")/.."
if ! git diff --quiet -- core; then
    echo "core/ has uncommitted changes; commit them first" >&2
    exit 2
fi

survivors=0
mutant() {
    local name=$1 file=$2 old=$3 new=$4
    python3 - "$file" "$old" "$new" <<'PY' || { echo "$name: pattern not found"; survivors=$((survivors + 1)); return; }
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if old not in text:
    sys.exit(1)
open(path, "w").write(text.replace(old, new, 1))
PY
    if PROPTEST_CASES=256 cargo test -q -p rtmix-host-tests --test equivalence --test timing >/dev/null 2>&1; then
        echo "SURVIVED: $name"
        survivors=$((survivors + 1))
    else
        echo "killed:   $name"
    fi
    git checkout -q -- core
}

mutant "start one frame late" core/src/scheduler.rs \
    "At::Frame(f) if f >= t0 => (f, 0)," "At::Frame(f) if f >= t0 => (f + 1, 0),"
mutant "cancel cuts one frame late" core/src/scheduler.rs \
    "                target.end = at;
                target.cut = true;" "                target.end = at + 1;
                target.cut = true;"
mutant "record reads one frame late" core/src/mix.rs \
    "input.get(span.block_frame * channels..(span.block_frame + span.frames) * channels)" \
    "input.get((span.block_frame + 1) * channels..(span.block_frame + 1 + span.frames) * channels)"
mutant "play writes one frame early" core/src/scheduler.rs \
    "block_frame: (from - t0) as usize," "block_frame: (from - t0).saturating_sub(1) as usize,"
mutant "late skip starts from sample 0" core/src/scheduler.rs \
    "                Late::Skip => frame," "                Late::Skip => t0,"
exit "$survivors"
