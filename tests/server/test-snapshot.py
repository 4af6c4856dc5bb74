#!/usr/bin/env python3
"""intern-kv --snapshot: the interpreter starts on a libintern snapshot.

A snapshot of the command names (read from cmd.c's INTERN_ID table) and the
keys, field names and values the differential test uses is written with
intern-snapshot.  Then:

  - intern-kv --snapshot FILE runs the differential test against
    redis-server (fewer seeds than the plain run): every reply agrees
    while command names resolve to the mapped strings, not to the
    INTERN_ID statics the snapshot displaces;
  - INFO's `# Intern` section names the file, its string count, and every
    command name as resolved into the mapping; HSET/HGET of snapshot
    fields and values work, and no mortal string is made for them;
  - a corrupted snapshot and a missing one make intern-kv exit non-zero
    with the library's reason, before it listens.

usage: test-snapshot.py INTERN_KV INTERN_SNAPSHOT CMD_C [--seeds N]
Exit status 77 (skip) when redis-server is not installed (the INFO and
refusal checks still run first).
"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import resp  # noqa: E402

FIELDS = [b'f1', b'f2', b'name', b'user_agent', b'country', b'language']
VALUES = [b'value', b'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36', b'y' * 2000,
          b'en-US,en;q=0.9']
KEYS = [b'k1', b'k2', b'counter', b'h1', b'h2', b's1', b's2', b'tags', b'n' * 300]


def write_snapshot(tool, cmd_c, tmp):
    names = re.findall(r'INTERN_ID\((\w+)\)', open(cmd_c).read())
    if len(names) < 20:
        resp.fail('found only %d command names in %s' % (len(names), cmd_c))
    words = os.path.join(tmp, 'words.txt')
    with open(words, 'wb') as f:
        f.write(b'\n'.join([n.encode() for n in names] + FIELDS + VALUES + KEYS) + b'\n')
    snap = os.path.join(tmp, 'server.snap')
    p = subprocess.run([tool, 'write', '-o', snap, words], capture_output=True, timeout=60)
    if p.returncode != 0:
        resp.fail('intern-snapshot write: %r' % p.stderr)
    return snap, len(set(names)), len(set(names)) + len(FIELDS) + len(VALUES) + len(KEYS)


def info_check(kv, snap, ncommands, nstrings):
    srv = resp.start_intern_kv(kv, ['--threads', '2', '--snapshot', snap])
    try:
        c = resp.Conn(srv.port, timeout=10)
        before, _ = resp.info_fields(c, 'intern')
        want = {'intern_snapshot': snap, 'intern_snapshot_strings': str(nstrings),
                'intern_snapshot_commands': str(ncommands)}
        for k, v in want.items():
            if before.get(k) != v:
                resp.fail('INFO %s is %r, want %r' % (k, before.get(k), v))
        for i, f in enumerate(FIELDS):
            if c.call('HSET', b'h1', f, VALUES[i % len(VALUES)]) != (':', 1):
                resp.fail('HSET of a snapshot field failed')
        if c.call('HGET', b'h1', b'user_agent') != ('$', VALUES[3 % len(VALUES)]):
            resp.fail('HGET of a snapshot field returned the wrong value')
        after, _ = resp.info_fields(c, 'intern')
        # The key h1, the fields and the values are all mapped strings: no
        # new mortal entry.
        if after['intern_mortal'] != before['intern_mortal']:
            resp.fail('mortal strings went from %s to %s for snapshot strings'
                      % (before['intern_mortal'], after['intern_mortal']))
        c.close()
    finally:
        rc, out = srv.stop()
    if rc != 0:
        resp.fail('intern-kv --snapshot exited %s:\n%s' % (rc, out))
    print('INFO: %s snapshot strings, %s command names in the mapping'
          % (nstrings, ncommands))


def refusal_check(kv, snap, tmp):
    data = open(snap, 'rb').read()
    bad = os.path.join(tmp, 'corrupt.snap')
    with open(bad, 'wb') as f:
        mid = len(data) // 2
        f.write(data[:mid] + bytes([data[mid] ^ 0x20]) + data[mid + 1:])
    for path in (bad, os.path.join(tmp, 'missing.snap')):
        p = subprocess.run([kv, '--port', str(resp.free_port()), '--snapshot', path],
                           capture_output=True, timeout=30)
        err = p.stderr.decode(errors='replace')
        if p.returncode == 0 or 'refused: ' not in err or not err.split('refused: ', 1)[1].strip():
            resp.fail('--snapshot %s: exit %s, %r (want non-zero and the reason)'
                      % (path, p.returncode, err))
        print('refused %s: %s' % (os.path.basename(path), err.strip()))


def main():
    kv, tool, cmd_c = sys.argv[1:4]
    seeds = sys.argv[sys.argv.index('--seeds') + 1] if '--seeds' in sys.argv else '3'
    tmp = tempfile.mkdtemp(prefix='intern-kv-snapshot.')
    try:
        snap, ncommands, nstrings = write_snapshot(tool, cmd_c, tmp)
        info_check(kv, snap, ncommands, nstrings)
        refusal_check(kv, snap, tmp)
        p = subprocess.run([sys.executable, os.path.join(HERE, 'test-differential.py'), kv,
                            '--seeds', seeds, '--', '--snapshot', snap], timeout=170)
        return p.returncode
    finally:
        subprocess.run(['rm', '-rf', tmp])


if __name__ == '__main__':
    sys.exit(main())
