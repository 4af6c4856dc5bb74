#!/bin/bash
# busted-detect.sh: prove that intern-stress's checks bite.
#
# For each busted variant of the library (meson -Dbusted=VARIANT: the
# library broken on purpose in exactly one way), configure and build
# build-busted-VARIANT, run the harness RUNS times (short runs, a new seed
# each), and count the runs that failed.  A run is "detected" when the
# harness exits non-zero: by a check (exit 1, the first violation named),
# by a crash (killed by a signal), or by hanging.  The correct library
# (variant "none", built in build-busted-none) is run too: there every run
# must pass, so a detection can not be a false alarm.
#
# Prints a table (markdown) and exits 1 if a busted variant's detection rate
# is below 95%, or if the correct library failed any run.
#
# usage: stress/torture/busted-detect.sh [-n RUNS] [-d SECS] [-t THREADS]
#                 [-c CPUS] [-a 'HARNESS ARGS'] [VARIANT...]
#   defaults: 100 runs of 0.5 s at 8 threads, --profile churn;
#   -c CPUS runs the harness under `taskset -c CPUS` (e.g. -c 0: one CPU,
#   no true parallelism, the hardest case for races);
#   variants: none no_grace revive no_publish_order wrong_remove early_reclaim
#             empty_unlink
set -u

runs=100
secs=0.5
threads=8
extra="--profile churn"
pin=()
while getopts "n:d:t:c:a:h" opt; do
	case $opt in
	n) runs=$OPTARG ;;
	d) secs=$OPTARG ;;
	t) threads=$OPTARG ;;
	c) pin=(taskset -c "$OPTARG") ;;
	a) extra=$OPTARG ;;
	*) sed -n '2,25p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=(none no_grace revive no_publish_order wrong_remove early_reclaim empty_unlink)

# Variants whose window the common profile opens too rarely get their own
# setting on top of it (docs/busted.md says why): emptying a slot that does
# not end its run needs runs of several entries (more keys in the shard);
# freeing a batch before its grace period only hurts a reader preempted in
# mid-compare while its killer closes a batch (longer runs).
declare -A variant_args=([empty_unlink]="--keys 64")
declare -A variant_min_secs=([early_reclaim]=5)

src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for v in "${variants[@]}"; do
	b="$src/build-busted-$v"
	if [ ! -d "$b" ]; then
		meson setup "$b" "$src" -Dbusted="$v" >"$out/setup.log" 2>&1 ||
			{ cat "$out/setup.log"; echo "busted-detect: setup of $v failed" >&2; exit 2; }
	fi
	ninja -C "$b" stress/torture/intern-stress >"$out/build.log" 2>&1 ||
		{ cat "$out/build.log"; echo "busted-detect: build of $v failed" >&2; exit 2; }
done

printf '| variant | runs | detected | rate | by check | by crash | by hang |'
printf ' checks that fired first |\n'
printf '|---|---|---|---|---|---|---|---|\n'
status=0
for v in "${variants[@]}"; do
	exe="$src/build-busted-$v/stress/torture/intern-stress"
	det=0 bycheck=0 bycrash=0 byhang=0
	vsecs=$secs
	min=${variant_min_secs[$v]:-0}
	awk "BEGIN { exit !($vsecs < $min) }" && vsecs=$min
	: >"$out/first"
	for ((i = 0; i < runs; i++)); do
		# The subshell keeps bash's "Aborted" notices out of the table.
		# shellcheck disable=SC2086 # $extra and the variant's args are lists of options
		(timeout 60 "${pin[@]}" "$exe" $extra ${variant_args[$v]:-} --threads "$threads" --duration "$vsecs" \
			--quiet --fail-fast --stall 5 >"$out/run" 2>&1; exit $?) 2>/dev/null
		rc=$?
		case $rc in
		0) continue ;;
		1)
			bycheck=$((bycheck + 1))
			first=$(sed -n 's/.*first violation \([a-z]*\):.*/\1/p' "$out/run" | head -1)
			[ -z "$first" ] && first=$(grep -q 'stall' "$out/run" && echo stall || echo other)
			echo "$first" >>"$out/first"
			;;
		2)
			cat "$out/run"
			echo "busted-detect: $v: the harness could not start" >&2
			exit 2
			;;
		124) byhang=$((byhang + 1)) ;;
		*) bycrash=$((bycrash + 1)) ;;
		esac
		det=$((det + 1))
		if [ "$v" = none ]; then
			echo "busted-detect: the correct library FAILED a run:" >&2
			cat "$out/run" >&2
		fi
	done
	rate=$((100 * det / runs))
	fired=$(sort "$out/first" | uniq -c | sort -rn | awk '{printf "%s%s %s", sep, $2, $1; sep=", "}')
	printf '| %s | %d | %d | %d%% | %d | %d | %d | %s |\n' \
		"$v" "$runs" "$det" "$rate" "$bycheck" "$bycrash" "$byhang" "${fired:--}"
	if [ "$v" = none ]; then
		[ "$det" -ne 0 ] && status=1
	elif [ $((100 * det)) -lt $((95 * runs)) ]; then
		status=1
	fi
done
[ $status -ne 0 ] && echo "busted-detect: FAIL (a variant below 95%, or a false alarm)" >&2
exit $status
