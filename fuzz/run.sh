#!/usr/bin/env bash
# Runs every fuzz target (engine, session, audio_file, convert) for SECONDS each (default
# 60), one job each, from a copy of the committed seed corpus in fuzz/corpus/<target>/, so
# the repository is never modified. Prints each target's executions and exec/s, and any
# crash with the path of the input that caused it (kept in fuzz/artifacts/<target>/, which
# git ignores); exits non-zero on any finding.
#
#   fuzz/run.sh            # about a minute per target (CI)
#   fuzz/run.sh 3600       # the long run, on demand
#   FUZZ_TARGETS="engine convert" fuzz/run.sh 300
#   FUZZ_KEEP_CORPUS=dir fuzz/run.sh 600   # keep the grown corpora in dir/<target>/
#   FUZZ_JOBS=2 fuzz/run.sh 60             # two targets at a time (CI, on 2 cores)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). On a stable toolchain it sets
# RUSTC_BOOTSTRAP=1 for cargo fuzz's nightly flags (-Zsanitizer). Builds once (release,
# debug assertions and overflow checks on, AddressSanitizer), then runs.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-60}"
targets="${FUZZ_TARGETS:-engine session audio_file convert}"
export RUSTC_BOOTSTRAP=1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The targets write their scratch files (the audio file under test, the session's
# fixtures) under TMPDIR: keep them in the work folder, removed at the end.
mkdir -p "$work/tmp"

start=$(date +%s)
echo "== building the fuzz targets"
cargo fuzz build
echo "   built in $(( $(date +%s) - start ))s"

# Fuzzes target $1 from a copy of its seeds; writes its summary line to $work/$1.result
# and its exit code to $work/$1.rc.
fuzz_one() {
    local t="$1" corpus="$work/corpus/$1" log="$work/$1.log" rc=0 malloc=2048
    mkdir -p "$corpus" "artifacts/$t"
    cp -r "corpus/$t/." "$corpus/"
    echo "== $t: ${seconds}s from $(ls "corpus/$t" | wc -l) seeds"
    # -timeout: an input that takes over 10 s is a hang; -rss_limit_mb: 2 GB is an OOM.
    # symphonia 0.5.5 asks for up to 4 GiB (zeroed, never touched) for a FLAC or Ogg
    # comment whose length field says so (docs/reliability.md, finding 1): the loader's
    # single allocations may reach 4.1 GB, resident memory still stops at 2 GB.
    [ "$t" = audio_file ] && malloc=4200
    TMPDIR="$work/tmp" cargo fuzz run "$t" "$corpus" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb="$malloc" \
        -artifact_prefix="$PWD/artifacts/$t/" -print_final_stats=1 \
        >"$log" 2>&1 || rc=$?
    local runs rate line
    runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log" | tail -1)
    rate=$(awk '/stat::average_exec_per_sec/ { print $2 }' "$log" | tail -1)
    line="$t: ${runs:-?} executions, ${rate:-?} exec/s, corpus $(ls "corpus/$t" | wc -l) -> $(ls "$corpus" | wc -l)"
    if [ "$rc" -ne 0 ]; then
        line="$line, FINDING (exit $rc)"
        echo "-- $t failed; the end of its log:"
        tail -n 60 "$log"
    fi
    echo "   $line"
    echo "$line" >"$work/$t.result"
    echo "$rc" >"$work/$t.rc"
    if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
        mkdir -p "$FUZZ_KEEP_CORPUS/$t"
        cp -r "$corpus/." "$FUZZ_KEEP_CORPUS/$t/"
    fi
}

# FUZZ_JOBS targets at a time (each one libFuzzer process on one core).
running=0
for t in $targets; do
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "${FUZZ_JOBS:-1}" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

failed=()
summary=()
for t in $targets; do
    summary+=("$(cat "$work/$t.result" 2>/dev/null || echo "$t: did not run")")
    [ "$(cat "$work/$t.rc" 2>/dev/null || echo 1)" = 0 ] || failed+=("$t")
done

echo
echo "== fuzzing: ${seconds}s per target, $(( $(date +%s) - start ))s in all"
printf '   %s\n' "${summary[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
    echo "FINDINGS in: ${failed[*]} (inputs in fuzz/artifacts/<target>/; replay one with"
    echo "  RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>)"
    exit 1
fi
