#!/bin/sh
# check-exports.sh NM LIBRARY HEADER MAPFILE
#
# The shared library exports exactly the intern_* functions that the public
# header declares and the version script lists: no private symbol leaks,
# no declared function is missing.
set -eu
# Under `meson test --setup valgrind` this shell runs under memcheck, which
# would report the shell's own leaks: run the check in a plain shell.
case "${LD_PRELOAD:-}" in
*vgpreload*) exec env -u LD_PRELOAD /bin/sh "$0" "$@" ;;
esac
nm=$1 lib=$2 header=$3 map=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$nm" -D --defined-only "$lib" | awk 'NF == 3 && $2 != "A" { sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$tmp/exported"
# Declarations: INTERN_EXPORT ... name( , possibly over two lines.
grep -v '^#' "$header" | tr '\n' ' ' | grep -o 'INTERN_EXPORT[^;(]*(' |
	sed 's/($//; s/.*[^a-z0-9_]//' | sort -u >"$tmp/declared"
sed -n 's/^[[:space:]]*\(intern_[a-z0-9_]*\);.*/\1/p' "$map" | sort -u >"$tmp/mapped"

status=0
for pair in "exported declared" "declared mapped"; do
	set -- $pair
	if ! diff -u "$tmp/$1" "$tmp/$2" >"$tmp/diff"; then
		echo "symbols $1 vs $2 differ:"
		cat "$tmp/diff"
		status=1
	fi
done
[ -s "$tmp/declared" ] || { echo "no declarations found in $header"; status=1; }
echo "$(wc -l <"$tmp/exported") symbols exported"
exit $status
