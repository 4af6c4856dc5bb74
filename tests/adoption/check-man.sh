#!/bin/sh
# check-man.sh NM SHARED_LIBRARY MAN_BUILD_DIR [PROGRAM...]
#
# Every function the shared library exports has a section-3 page, every
# installed PROGRAM a section-1 page, intern(7) exists, and groff and man
# render each page (links included) without a warning.
. "$(dirname "$0")/common.sh"
nm=$1 lib=$2 pages=$3
shift 3
command -v groff >/dev/null 2>&1 || { echo "groff not installed: skipped"; exit 77; }
work_dir
mkdir -p "$tmp/man/man1" "$tmp/man/man3" "$tmp/man/man7"
cp "$pages"/*.3 "$tmp/man/man3/"
cp "$pages"/*.7 "$tmp/man/man7/"
for prog in "$@"; do
	prog=$(basename "$prog")
	[ -f "$pages/$prog.1" ] || fail "no section-1 page for $prog"
	cp "$pages/$prog.1" "$tmp/man/man1/"
done

"$nm" -D --defined-only "$lib" | awk 'NF == 3 && $2 != "A" { sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$tmp/exported"
[ -s "$tmp/exported" ] || fail "no exported symbols in $lib"
missing=0
while read -r sym; do
	[ -f "$tmp/man/man3/$sym.3" ] || { echo "no page for $sym"; missing=1; }
done <"$tmp/exported"
[ -f "$tmp/man/man7/intern.7" ] || { echo "no intern(7)"; missing=1; }
[ $missing -eq 0 ] || fail "pages missing"

cd "$tmp/man"
bad=0
for page in man3/*.3 man7/*.7 $(ls man1/*.1 2>/dev/null); do
	# .so links resolve against this directory, as man does.
	groff -man -ww -z "$page" >"$tmp/groff.err" 2>&1 || echo "groff exit $?" >>"$tmp/groff.err"
	if command -v man >/dev/null 2>&1; then
		MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>>"$tmp/groff.err" >"$tmp/page.txt" ||
			echo "man exit $?" >>"$tmp/groff.err"
		grep -q "^NAME" "$tmp/page.txt" || echo "man: no NAME section" >>"$tmp/groff.err"
	fi
	if [ -s "$tmp/groff.err" ]; then
		echo "$page:"
		cat "$tmp/groff.err"
		bad=1
	fi
done
[ $bad -eq 0 ] || fail "pages render with warnings"
echo "$(wc -l <"$tmp/exported") exported functions, each with a page; $# programs, each with a page; $(ls man1 man3 man7 | grep -c '\.[137]$') pages render cleanly"
