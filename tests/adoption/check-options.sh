#!/bin/sh
# check-options.sh PROGRAM... [-- PROGRAM...]
#
# Each program, given an unknown option, an option without its value and
# an option with a bad value, prints its usage and exits 2, never aborting
# or running.  Each PROGRAM may be a command with arguments, quoted as one.
set -u
bad=0
for prog in "$@"; do
	for args in "--no-such-option" "--threads" "--threads not-a-number" "--reps -3" "--keys"; do
		# shellcheck disable=SC2086 # prog and args are word lists
		timeout 20 $prog $args >/tmp/check-options.$$ 2>&1
		rc=$?
		if [ $rc -ne 2 ] || ! grep -qi "usage" /tmp/check-options.$$; then
			echo "FAIL: $prog $args: exit $rc (want 2 and the usage):"
			head -5 /tmp/check-options.$$
			bad=1
		fi
	done
	echo "$prog: bad options exit 2 with the usage"
done
rm -f /tmp/check-options.$$
exit $bad
