#!/bin/sh
# Install the built libintern into a scratch directory (meson install
# --destdir), build app.c against the installed static library with the
# flags `pkg-config --static` gives, check that the program links no
# libintern.so, and run it.
#
#   run.sh MESON BUILD-DIR SOURCE-DIR CC...
set -eu
meson=$1 build=$2 src=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$meson" install -C "$build" --no-rebuild --quiet --destdir "$tmp" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }
pcfile=$(find "$tmp" -name libintern.pc | head -n 1)
[ -n "$pcfile" ] || { echo "no libintern.pc installed"; exit 1; }
prefix=$(pkg-config --variable=prefix "$pcfile")
pc() { PKG_CONFIG_PATH=$(dirname "$pcfile") pkg-config --define-variable=prefix="$tmp$prefix" "$@" libintern; }
libdir=$(pc --variable=libdir)
[ -f "$libdir/libintern.a" ] || { echo "no libintern.a in $libdir"; exit 1; }

# The archive itself, then every other library --static lists (-lintern
# alone would pick the shared library).
libs=$(pc --static --libs | sed 's/\(^\| \)-lintern\( \|$\)/ /')
# shellcheck disable=SC2046,SC2086 # word splitting of flag lists
"$@" -o "$tmp/app" "$src/app.c" $(pc --cflags) "$libdir/libintern.a" $libs
if ldd "$tmp/app" | grep -q libintern; then
	echo "app links the shared libintern"
	exit 1
fi
"$tmp/app"
