#!/bin/sh
# Run the libFuzzer target for a bounded time, starting from the seed
# corpus, and print the number of executions.
#
#   CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false
#   ninja -C build-fuzz tests/fuzz/fuzz-api
#   tests/fuzz/run-fuzz.sh build-fuzz 60
#
# The seed corpus is read, never written: new inputs go to a temporary
# directory.  A crash leaves its input in BUILD/fuzz-artifacts/ and the
# script exits 1 (libFuzzer's own crash status, 77, would read as a skip to
# meson: hence -error_exitcode=1 -timeout_exitcode=1).  Extra arguments go
# to libFuzzer (e.g. -jobs=2, -max_len=4096).  FUZZ_TARGET and FUZZ_CORPUS
# pick another target and its seeds (paths from the build directory and
# the source root): the server's request parser is
#   FUZZ_TARGET=stress/server/fuzz-resp FUZZ_CORPUS=stress/server/fuzz-corpus
set -u
build=${1:?usage: run-fuzz.sh BUILD_DIR [SECONDS] [libFuzzer args...]}
secs=${2:-60}
[ $# -ge 2 ] && shift 2 || shift $#
here=$(cd "$(dirname "$0")" && pwd)
target=$build/${FUZZ_TARGET:-tests/fuzz/fuzz-api}
corpus=${FUZZ_CORPUS:+$here/../../$FUZZ_CORPUS}
corpus=${corpus:-$here/corpus}
name=$(basename "$target")
[ -x "$target" ] || { echo "run-fuzz.sh: no $target (meson setup -Dfuzz=true)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$build/fuzz-artifacts"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
"$target" -max_total_time="$secs" -error_exitcode=1 -timeout_exitcode=1 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/" "$@" \
	"$work/corpus" "$corpus" >"$work/log" 2>&1
rc=$?
tail -n 25 "$work/log"
execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/log")
echo "$name: rc=$rc, ${execs:-?} executions in ${secs} s, corpus $(ls "$work/corpus" | wc -l) new inputs"
exit $rc
