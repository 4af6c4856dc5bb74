#!/bin/bash
# alloc-fail-sweep.sh: the allocation-failure sweep, sized for CI (< 1 min).
#
# Builds intern-stress with AddressSanitizer + UBSan (build-stress-asan,
# configured if absent) and runs `intern-stress --alloc-fail`:
#   sweep  one thread repeats a fixed 300-operation workload; for every k
#          the k-th allocation fails, then for k in steps every allocation
#          from the k-th on fails; each run's exact end-of-run audit must
#          pass (see allocfail.c);
#   storm  8 threads for DURATION seconds while allocations fail at random,
#          one at a time and in bursts of a few milliseconds.
# Every failed call must fail cleanly (NULL + ENOMEM, or -ENOMEM with *p
# untouched), every invariant must hold, and LeakSanitizer must find no
# leak at exit.  Exits non-zero otherwise.
#
# usage: stress/torture/alloc-fail-sweep.sh [-b BUILDDIR] [-d DURATION] [-t THREADS]
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build="$src/build-stress-asan"
duration=2
threads=8
while getopts "b:d:t:h" opt; do
	case $opt in
	b) build=$(cd "$(dirname "$OPTARG")" && pwd)/$(basename "$OPTARG") ;;
	d) duration=$OPTARG ;;
	t) threads=$OPTARG ;;
	*) sed -n '2,17p' "$0"; exit 2 ;;
	esac
done

if [ ! -d "$build" ]; then
	meson setup "$build" "$src" -Db_sanitize=address,undefined >/dev/null
fi
ninja -C "$build" stress/torture/intern-stress >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
exec timeout 120 "$build/stress/torture/intern-stress" --alloc-fail \
	--threads "$threads" --duration "$duration" --quiet
