# common.sh: what the adoption tests share (sourced, not run).
#
#   work_dir               a temporary directory, removed on exit: $tmp
#   install_tree BUILDDIR  `meson install` of BUILDDIR into $tmp/dest;
#                          sets $prefix (where the tree is) and $libdir
#   fail MESSAGE           print and exit 1
set -eu

fail() {
	echo "FAIL: $*"
	exit 1
}

work_dir() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/libintern-adoption.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
}

install_tree() {
	meson install -C "$1" --no-rebuild --quiet --destdir "$tmp/dest" >"$tmp/install.log" 2>&1 ||
		{ cat "$tmp/install.log"; fail "meson install failed"; }
	local conf_prefix conf_libdir
	conf_prefix=$(meson introspect "$1" --buildoptions |
		python3 -c 'import json,sys; o={x["name"]:x["value"] for x in json.load(sys.stdin)}; print(o["prefix"]); print(o["libdir"])')
	conf_libdir=$(echo "$conf_prefix" | sed -n 2p)
	conf_prefix=$(echo "$conf_prefix" | sed -n 1p)
	prefix=$tmp/dest$conf_prefix
	case $conf_libdir in
	/*) libdir=$tmp/dest$conf_libdir ;;
	*) libdir=$prefix/$conf_libdir ;;
	esac
	[ -f "$libdir/pkgconfig/libintern.pc" ] || fail "no libintern.pc under $libdir"
}

# A consumer: the public header alone, the version query, one intern call.
write_consumer() {
	cat >"$1" <<'C'
#include <intern.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct intern_interp *ip = intern_interp_new(NULL);
	struct intern_str *a = intern_bytes(ip, "consumer", 8);
	struct intern_str *b = intern_bytes(ip, "consumer", 8);
	int ok = a && a == b && intern_version_number() >= INTERN_VERSION_NUMBER;

	printf("libintern %s: %s\n", intern_version(), ok ? "ok" : "WRONG");
	intern_str_decref(a);
	intern_str_decref(b);
	intern_interp_free(ip);
	return ok ? 0 : 1;
}
C
}
