#!/bin/sh
# check-license.sh SOURCE_ROOT
#
# The MIT licence, in full, with the copyright holder the header names.
set -eu
root=$1
lic=$root/LICENSE
[ -f "$lic" ] || { echo "FAIL: no LICENSE"; exit 1; }
for line in "MIT License" "Copyright (c) 2026 the libintern developers" \
	"Permission is hereby granted, free of charge" \
	"The above copyright notice and this permission notice shall be included" \
	'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND'; do
	grep -qF "$line" "$lic" || { echo "FAIL: LICENSE lacks: $line"; exit 1; }
done
grep -q "license: 'MIT'" "$root/meson.build" || { echo "FAIL: meson.build does not say MIT"; exit 1; }
grep -q "the libintern developers.  MIT licence" "$root/include/intern.h" ||
	{ echo "FAIL: include/intern.h does not name the licence"; exit 1; }
echo "LICENSE: MIT, full text"
