#!/usr/bin/env python3
"""intern-kv under many connections at once.

  - counters: every connection INCRs, INCRBYs and HINCRBYs the same few
    counters in pipelined batches; the totals must be exact;
  - churn: connections SET and DEL the same keys, SADD to shared sets and
    APPEND to a shared string, each also writing keys of its own; every
    acknowledged write of its own must be there at the end, the shared
    sets must hold every member added, the shared string every append;
  - strings come back: INFO's intern_mortal, read on the empty server,
    returns to that value after FLUSHALL once the clients are gone (no
    interned string leaked by the server or the library).

usage: test-concurrency.py INTERN_KV [--scale F] [SERVER_ARGS...]
(--scale F multiplies the rounds; a total-collision build, -Dtest_hash=
constant, runs the full test in about 9 s instead of 3 s here.)
"""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resp  # noqa: E402

CLIENTS = 32
ROUNDS = 100
BATCH = 40


def run_threads(target, n):
    errors = []

    def wrap(i):
        try:
            target(i)
        except Exception as e:  # reported by the main thread
            errors.append('client %d: %r' % (i, e))

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if any(t.is_alive() for t in threads):
        errors.append('a client is still running after 120 s')
    return errors


def counters(port):
    def client(i):
        c = resp.Conn(port, timeout=60)
        for r in range(ROUNDS):
            cmds = []
            for b in range(BATCH):
                cmds.append([b'INCR', b'ctr:%d' % (b % 4)])
                cmds.append([b'INCRBY', b'ctr:by', b'7'])
                cmds.append([b'HINCRBY', b'ctr:hash', b'f%d' % (b % 3), b'-3'])
                cmds.append([b'DECR', b'ctr:down'])
            for reply in c.pipeline(cmds):
                if reply[0] != ':':
                    raise AssertionError('counter reply %r' % (reply,))
        c.close()

    errors = run_threads(client, CLIENTS)
    c = resp.Conn(port)
    per = CLIENTS * ROUNDS * BATCH
    want = {b'ctr:0': per // 4 + (per % 4 > 0), b'ctr:by': 7 * per, b'ctr:down': -per}
    # BATCH % 4 decides how INCRs spread over ctr:0..3; count exactly.
    incr = [0] * 4
    for b in range(BATCH):
        incr[b % 4] += CLIENTS * ROUNDS
    for k in range(4):
        want[b'ctr:%d' % k] = incr[k]
    for key, n in want.items():
        got = c.call('GET', key)
        if got != ('$', str(n).encode()):
            errors.append('%r = %r, want %d' % (key, resp.value(got), n))
    hf = [0] * 3
    for b in range(BATCH):
        hf[b % 3] -= 3 * CLIENTS * ROUNDS
    for f in range(3):
        got = c.call('HGET', 'ctr:hash', 'f%d' % f)
        if got != ('$', str(hf[f]).encode()):
            errors.append('ctr:hash f%d = %r, want %d' % (f, resp.value(got), hf[f]))
    c.close()
    return errors


def churn(port):
    shared = [b'shared:%d' % k for k in range(32)]
    c = resp.Conn(port)
    before = c.call('DBSIZE')[1]  # the counters' keys
    c.close()

    def client(i):
        rng = random.Random(i)
        c = resp.Conn(port, timeout=60)
        for r in range(ROUNDS):
            cmds = []
            for b in range(BATCH):
                k = rng.choice(shared)
                x = rng.random()
                if x < 0.4:
                    cmds.append([b'SET', k, b'c%d-%d-%d' % (i, r, b)])
                elif x < 0.7:
                    cmds.append([b'DEL', k])
                else:
                    cmds.append([b'GET', k])
            cmds.append([b'SET', b'own:%d:%d' % (i, r), b'value-%d-%d' % (i, r)])
            cmds.append([b'SADD', b'members', b'm%d-%d' % (i, r), b'common'])
            cmds.append([b'HSET', b'fields', b'f%d-%d' % (i, r), b'v'])
            cmds.append([b'APPEND', b'log', b'%02d,' % i])
            for cmd, reply in zip(cmds, c.pipeline(cmds)):
                if reply[0] == '-':
                    raise AssertionError('%r -> %r' % (cmd, reply))
                if cmd[0] == b'GET' and reply[1] is not None and not reply[1].startswith(b'c'):
                    raise AssertionError('GET %r returned %r' % (cmd[1], reply[1]))
        c.close()

    errors = run_threads(client, CLIENTS)
    c = resp.Conn(port)
    own = [[b'GET', b'own:%d:%d' % (i, r)] for i in range(CLIENTS) for r in range(ROUNDS)]
    for cmd, reply in zip(own, c.pipeline(own)):
        want = b'value-' + cmd[1][4:].replace(b':', b'-')
        if reply != ('$', want):
            errors.append('%r = %r, want %r' % (cmd[1], resp.value(reply), want))
            break
    n = c.call('SCARD', 'members')
    if n != (':', CLIENTS * ROUNDS + 1):
        errors.append('SCARD members = %r, want %d' % (resp.value(n), CLIENTS * ROUNDS + 1))
    n = c.call('HLEN', 'fields')
    if n != (':', CLIENTS * ROUNDS):
        errors.append('HLEN fields = %r, want %d' % (resp.value(n), CLIENTS * ROUNDS))
    n = c.call('STRLEN', 'log')
    if n != (':', 3 * CLIENTS * ROUNDS):
        errors.append('STRLEN log = %r, want %d' % (resp.value(n), 3 * CLIENTS * ROUNDS))
    log = c.call('GET', 'log')[1] or b''
    for i in range(CLIENTS):
        if log.count(b'%02d,' % i) != ROUNDS:
            errors.append('log holds %d appends of client %d, want %d'
                          % (log.count(b'%02d,' % i), i, ROUNDS))
            break
    # Every shared key left is a well-formed string; DBSIZE agrees.
    left = [k for k in shared if c.call('EXISTS', k) == (':', 1)]
    dbsize = c.call('DBSIZE')
    want = before + CLIENTS * ROUNDS + 3 + len(left)
    if dbsize != (':', want):
        errors.append('DBSIZE %r, want %d' % (resp.value(dbsize), want))
    c.close()
    return errors


def mortal(conn):
    return int(resp.info_fields(conn)[0]['intern_mortal'])


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    global ROUNDS
    args = sys.argv[2:]
    if args[:1] == ['--scale']:
        ROUNDS = max(2, int(ROUNDS * float(args[1])))
        args = args[2:]
    ikv = resp.start_intern_kv(sys.argv[1], args)
    errors = []
    try:
        c = resp.Conn(ikv.port)
        intern_layer = 'intern_mortal' in resp.info_fields(c)[0]
        start = mortal(c) if intern_layer else None
        c.close()
        t0 = time.time()
        for name, check in (('counters', counters), ('churn', churn)):
            errs = check(ikv.port)
            print('%s: %d clients x %d rounds x %d commands, %s (%.1f s)'
                  % (name, CLIENTS, ROUNDS, BATCH, 'ok' if not errs else 'FAILED',
                     time.time() - t0))
            errors += errs
        c = resp.Conn(ikv.port)
        if intern_layer:
            during = mortal(c)
            if c.call('FLUSHALL') != ('+', 'OK'):
                errors.append('FLUSHALL failed')
            # Let closed connections finish going away.
            deadline = time.time() + 10
            now = mortal(c)
            while now != start and time.time() < deadline:
                time.sleep(0.1)
                now = mortal(c)
            print('intern_mortal: %d empty, %d loaded, %d after FLUSHALL' % (start, during, now))
            if now != start:
                errors.append('intern_mortal is %d after FLUSHALL, %d at the start'
                              % (now, start))
            if during <= start and '--no-intern' not in args:
                errors.append('intern_mortal did not grow with the data (%d)' % during)
        if c.call('DBSIZE') != (':', 0):
            errors.append('DBSIZE not 0 after FLUSHALL')
        c.close()
    finally:
        rc, out = ikv.stop()
        if rc != 0:
            errors.append('intern-kv exited with %s on SIGTERM:\n%s' % (rc, out))
    for e in errors:
        print('FAIL: %s' % e)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
