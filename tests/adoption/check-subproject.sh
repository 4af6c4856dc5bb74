#!/bin/sh
# check-subproject.sh SOURCE_ROOT
#
# A temporary parent project uses libintern as a subproject.  Configured
# with default_library=static, it must build libintern's static library and
# the generator's outputs only (no tests, benchmarks, stress harness or
# man pages of libintern's), register only its own test, install nothing of
# libintern's, and its program must link and run; configured with
# default_library=shared, libintern must be a shared library.
. "$(dirname "$0")/common.sh"
root=$1
work_dir
parent=$tmp/parent
mkdir -p "$parent/subprojects/libintern"
# The tracked source tree, no build directories.
(cd "$root" && find . -path ./.git -prune -o -path './build*' -prune -o \
	-path ./subprojects -prune -o -type f -print | tar -cf - -T -) |
	tar -C "$parent/subprojects/libintern" -xf -
write_consumer "$parent/app.c"
cat >"$parent/meson.build" <<'M'
project('parent', 'c', default_options: ['default_library=static'])
intern_dep = subproject('libintern').get_variable('libintern_dep')
gen = find_program('intern-gen-ids')
app = executable('app', 'app.c', dependencies: intern_dep, install: true)
test('parent-app', app)
M

check_config() { # $1: build dir, $2: expected library type
	meson introspect "$1" --targets --tests --benchmarks --installed >"$tmp/intro.json"
	python3 - "$tmp/intro.json" "$2" <<'PY'
import json, sys
intro = json.load(open(sys.argv[1]))
want = sys.argv[2]
errors = []
tests = [t["name"] for t in intro["tests"]]
if tests != ["parent-app"]:
    errors.append("tests registered: %s (want only parent-app)" % tests)
if intro["benchmarks"]:
    errors.append("benchmarks registered: %s" % [b["name"] for b in intro["benchmarks"]])
sub = [t for t in intro["targets"] if t.get("subproject") == "libintern"]
libs = sorted((t["name"], t["type"]) for t in sub if t["type"].endswith("library"))
others = sorted(t["name"] for t in sub if not t["type"].endswith("library")
                and t["type"] != "custom")
custom = sorted(t["name"] for t in sub if t["type"] == "custom")
if libs != [("intern", want + " library")]:
    errors.append("libintern libraries: %s (want one %s library)" % (libs, want))
if others:
    errors.append("other libintern targets: %s" % others)
if [c for c in custom if c != "smallint-table"]:
    errors.append("libintern custom targets: %s" % custom)
installed = [p for p in intro["installed"] if "subprojects/libintern" in p]
if installed:
    errors.append("libintern installs: %s" % installed)
print("\n".join(errors) or "subproject (%s): only the library; tests %s" % (want, tests))
sys.exit(1 if errors else 0)
PY
}

meson setup "$parent/build" "$parent" >"$tmp/setup.log" 2>&1 ||
	{ cat "$tmp/setup.log"; fail "parent setup"; }
check_config "$parent/build" static || fail "static subproject"
meson compile -C "$parent/build" >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log"; fail "parent build"; }
"$parent/build/app" || fail "parent's app"

meson setup "$parent/build-shared" "$parent" -Ddefault_library=shared >"$tmp/setup2.log" 2>&1 ||
	{ cat "$tmp/setup2.log"; fail "parent setup, shared"; }
check_config "$parent/build-shared" shared || fail "shared subproject"
