#!/bin/sh
# check-pkgconfig.sh BUILD_DIR CC...
#
# With libintern.pc the only .pc file pkg-config can see (no liburcu, no ck),
# a shared consumer gets its flags, builds and runs, and nothing private
# leaks into them; a static consumer (--static, libintern.a only) gets every
# private library it needs, links and runs.
. "$(dirname "$0")/common.sh"
build=$1
shift
command -v pkg-config >/dev/null 2>&1 || { echo "pkg-config not installed: skipped"; exit 77; }
work_dir
install_tree "$build"
mkdir -p "$tmp/pc" "$tmp/static"
cp "$libdir/pkgconfig/libintern.pc" "$tmp/pc/"
cp "$libdir/libintern.a" "$tmp/static/"
write_consumer "$tmp/app.c"
export PKG_CONFIG_LIBDIR="$tmp/pc" PKG_CONFIG_PATH=
pc() { pkg-config --define-variable=prefix="$prefix" "$@" libintern; }

flags=$(pc --cflags --libs) || fail "pkg-config --cflags --libs without liburcu's and ck's .pc"
echo "shared: $flags"
case " $flags " in
*urcu* | *" -lck "* | *-D__x86_64__*) fail "private flags leak to shared consumers: $flags" ;;
esac
# shellcheck disable=SC2086 # word splitting of the flags is the point
"$@" -o "$tmp/app-shared" "$tmp/app.c" $flags || fail "shared consumer does not build"
LD_LIBRARY_PATH=$libdir "$tmp/app-shared" || fail "shared consumer"

sflags=$(pc --define-variable=libdir="$tmp/static" --static --cflags --libs) ||
	fail "pkg-config --static without liburcu's and ck's .pc"
echo "static: $sflags"
for l in -lintern -lurcu-memb -lurcu-common -lck; do
	case " $sflags " in *" $l "*) ;; *) fail "--static lacks $l" ;; esac
done
# shellcheck disable=SC2086
"$@" -o "$tmp/app-static" "$tmp/app.c" $sflags || fail "static consumer does not link"
if ldd "$tmp/app-static" | grep -q libintern; then
	fail "static consumer loads libintern.so"
fi
"$tmp/app-static" || fail "static consumer"
# Fully static too, where the system has every archive (Debian's liburcu-dev
# and libck-dev ship them).
# shellcheck disable=SC2086
if "$@" -static -o "$tmp/app-allstatic" "$tmp/app.c" $sflags 2>"$tmp/allstatic.err"; then
	"$tmp/app-allstatic" || fail "fully static consumer"
else
	echo "fully static link not possible here:"
	cat "$tmp/allstatic.err"
fi
echo "pkg-config: shared and static consumers build and run from libintern.pc alone"
