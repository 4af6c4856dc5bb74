#!/usr/bin/env python3
"""Differential test: intern-kv against redis-server.

Both servers get the same seeded random command sequences, covering every
command intern-kv implements, with binary-safe keys and values and the
error cases (wrong arity, wrong type, not an integer, overflow, syntax),
sent as multibulk and inline requests, in pipelined batches.  Every reply
must be identical, except that set members and hash listings compare as
sets, TTLs within a second, and INFO / COMMAND / CONFIG only by shape (they
describe the servers themselves).  The first difference is printed with the
seed and the commands before it.

usage: test-differential.py INTERN_KV [--seeds N] [--commands N] [-- SERVER_ARGS...]
Exit status 77 (skip) when redis-server is not installed.
"""
import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resp  # noqa: E402

# Keys: each type's commands mostly use their own, and sometimes any key,
# so that wrong-type errors come up without drowning the rest; binary-safe
# ones included.
STR_KEYS = [b'k1', b'k2', b'counter', b'', b'\x00', b'key with spaces', b'n' * 300]
HASH_KEYS = [b'h1', b'h2', b'a\r\nb', b'user:\xe2\x82\xac']
SET_KEYS = [b's1', b's2', b'\xff\xfe\x00\x01', b'tags']
KEYS = STR_KEYS + HASH_KEYS + SET_KEYS
FIELDS = [b'f1', b'f2', b'name', b'', b'\x00f', b'\r\n', b'\xc3\xa9t\xc3\xa9', b'f' * 100]
VALUES = [b'v', b'value', b'', b'\x00\x01\x02', b'\r\n\r\n', b'\xff' * 40,
          b'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36', b'y' * 2000]
# Text that may or may not parse as an integer, and edges of 64 bits.
INTS = [b'0', b'1', b'-1', b'10', b'-5', b'1024', b'1025', b'123456789', b'007', b'-0',
        b'+5', b' 5', b'5 ', b'1e3', b'3.0', b'abc', b'', b'9223372036854775807',
        b'-9223372036854775808', b'9223372036854775808', b'-9223372036854775809',
        b'99999999999999999999', b'0x10']
SMALL_INTS = [b'0', b'1', b'-1', b'2', b'10', b'-7', b'100', b'1000000']


def pick(rng, pool):
    return rng.choice(pool)


def key(rng, own):
    return pick(rng, own if rng.random() < 0.85 else KEYS)


def some(rng, pool, lo=1, hi=4):
    return [pick(rng, pool) for _ in range(rng.randint(lo, hi))]


def integer(rng):
    return pick(rng, INTS if rng.random() < 0.3 else SMALL_INTS)


def value_or_int(rng):
    return pick(rng, VALUES) if rng.random() < 0.6 else integer(rng)


def gen_set(rng):
    args = [b'SET', key(rng, STR_KEYS), value_or_int(rng)]
    opts = []
    r = rng.random()
    if r < 0.15:
        opts.append(b'NX')
    elif r < 0.3:
        opts.append(b'XX')
    if rng.random() < 0.15:
        opts.append(b'GET')
    r = rng.random()
    if r < 0.1:
        opts += [b'EX', pick(rng, [b'100', b'1000', b'0', b'-1', b'abc', b'9999999999999999'])]
    elif r < 0.2:
        opts += [b'PX', pick(rng, [b'100000', b'2000000', b'0', b'x1'])]
    elif r < 0.23:
        opts += [pick(rng, [b'EX', b'PX'])]  # missing its number
    elif r < 0.26:
        opts += [b'NX', b'XX']
    elif r < 0.28:
        opts += [b'EX', b'100', b'PX', b'100000']
    elif r < 0.3:
        opts += [b'BOGUS']
    elif r < 0.33:
        opts += [b'KEEPTTL']
    elif r < 0.36:
        # Absolute times far ahead (both servers get the same number).
        # Not in the past: such a key is gone for every command, but when
        # it leaves DBSIZE is up to each server's sweep (expiry_check).
        far = int(time.time()) + 100000
        opts += pick(rng, [[b'EXAT', b'%d' % far], [b'PXAT', b'%d' % (far * 1000)],
                           [b'EXAT', b'0'], [b'KEEPTTL', b'EX', b'100']])
    rng.shuffle(opts)
    if rng.random() < 0.2:
        opts = [o.lower() for o in opts]
    return args + opts


def gen_expire(rng):
    cmd = pick(rng, [b'EXPIRE', b'PEXPIRE'])
    # Long or immediate: a short expiry would race between the servers.
    t = pick(rng, [b'1000', b'5000000', b'0', b'-5', b'abc', b'9223372036854775807',
                   b'-9223372036854775808'])
    if cmd == b'PEXPIRE' and t in (b'1000',):
        t = b'1000000'
    opts = []
    if rng.random() < 0.3:
        opts = some(rng, [b'NX', b'XX', b'GT', b'LT', b'nx', b'gt', b'BOGUS'], 1, 2)
    return [cmd, pick(rng, KEYS), t] + opts


GENERATORS = [
    # (weight, generator)
    (2, lambda r: [b'PING'] + some(r, VALUES, 0, 1)),
    (1, lambda r: [b'ECHO', pick(r, VALUES)]),
    (1, lambda r: [b'SELECT', pick(r, [b'0', b'0', b'1', b'16', b'-1', b'abc'])]),
    (2, lambda r: [b'DBSIZE']),
    (1, lambda r: [b'TYPE', pick(r, KEYS)]),
    (3, lambda r: [b'EXISTS'] + some(r, KEYS)),
    (3, lambda r: [pick(r, [b'DEL', b'UNLINK'])] + some(r, KEYS, 1, 3)),
    (6, lambda r: [b'GET', key(r, STR_KEYS)]),
    (8, gen_set),
    (2, lambda r: [b'SETNX', key(r, STR_KEYS), value_or_int(r)]),
    (2, lambda r: [b'MGET'] + some(r, KEYS, 1, 5)),
    (2, lambda r: [b'MSET'] + [x for _ in range(r.randint(1, 3))
                              for x in (pick(r, KEYS), value_or_int(r))]),
    (4, lambda r: [pick(r, [b'INCR', b'DECR']), key(r, STR_KEYS)]),
    (4, lambda r: [pick(r, [b'INCRBY', b'DECRBY']), key(r, STR_KEYS), integer(r)]),
    (2, lambda r: [b'APPEND', key(r, STR_KEYS), value_or_int(r)]),
    (2, lambda r: [b'STRLEN', key(r, STR_KEYS)]),
    (6, lambda r: [b'HSET', key(r, HASH_KEYS)] + [x for _ in range(r.randint(1, 3))
                                             for x in (pick(r, FIELDS), value_or_int(r))]),
    (1, lambda r: [b'HMSET', key(r, HASH_KEYS)] + [x for _ in range(r.randint(0, 2))
                                                  for x in (pick(r, FIELDS), value_or_int(r))]),
    (4, lambda r: [b'HGET', key(r, HASH_KEYS), pick(r, FIELDS)]),
    (2, lambda r: [b'HMGET', key(r, HASH_KEYS)] + some(r, FIELDS)),
    (2, lambda r: [b'HDEL', key(r, HASH_KEYS)] + some(r, FIELDS)),
    (2, lambda r: [b'HLEN', key(r, HASH_KEYS)]),
    (2, lambda r: [b'HEXISTS', key(r, HASH_KEYS), pick(r, FIELDS)]),
    (2, lambda r: [b'HGETALL', key(r, HASH_KEYS)]),
    (1, lambda r: [b'HKEYS', key(r, HASH_KEYS)]),
    (1, lambda r: [b'HVALS', key(r, HASH_KEYS)]),
    (3, lambda r: [b'HINCRBY', key(r, HASH_KEYS), pick(r, FIELDS), integer(r)]),
    (5, lambda r: [b'SADD', key(r, SET_KEYS)] + some(r, VALUES + SMALL_INTS)),
    (2, lambda r: [b'SREM', key(r, SET_KEYS)] + some(r, VALUES + SMALL_INTS)),
    (2, lambda r: [b'SISMEMBER', key(r, SET_KEYS), pick(r, VALUES + SMALL_INTS)]),
    (2, lambda r: [b'SCARD', key(r, SET_KEYS)]),
    (2, lambda r: [b'SMEMBERS', key(r, SET_KEYS)]),
    (3, gen_expire),
    (2, lambda r: [pick(r, [b'TTL', b'PTTL']), pick(r, KEYS)]),
    (1, lambda r: [b'PERSIST', pick(r, KEYS)]),
    (0.3, lambda r: [pick(r, [b'FLUSHALL', b'FLUSHDB'])]),
    (0.3, lambda r: [b'INFO'] + some(r, [b'keyspace', b'server', b'memory', b'clients'], 0, 1)),
    (0.2, lambda r: [b'CONFIG', b'GET', pick(r, [b'save', b'appendonly', b'maxclients'])]),
    (0.1, lambda r: [b'COMMAND']),
    # Unknown names, among them near misses of real ones: a prefix, one
    # byte more, 16 and 18 bytes (the longest name the dispatch lower-cases
    # is 16), a byte that is not ASCII before a real name.
    (0.5, lambda r: [pick(r, [b'NOSUCHCMD', b'GETT', b'\x00\xff', b'HSE', b'HSETX',
                              b'SMEMBERSSMEMBERS', b'INCRBYINCRBYINCRBY',
                              b'\xc8SET'])] + some(r, VALUES, 0, 2)),
]

# Arities, to make wrong-arity requests from the right command names.
ARITY = {b'GET': 2, b'SET': -3, b'INCR': 2, b'HSET': -4, b'SADD': -3, b'EXPIRE': -3,
         b'ECHO': 2, b'TTL': 2, b'MSET': -3, b'HGET': 3, b'DEL': -2, b'EXISTS': -2,
         b'APPEND': 3, b'STRLEN': 2, b'HINCRBY': 4, b'SISMEMBER': 3, b'SCARD': 2,
         b'PERSIST': 2, b'DBSIZE': 1, b'TYPE': 2, b'INCRBY': 3, b'HGETALL': 2,
         b'HMGET': -3, b'HDEL': -3, b'SREM': -3, b'SMEMBERS': 2, b'PEXPIRE': -3,
         b'SELECT': 2, b'HLEN': 2, b'HEXISTS': 3, b'SETNX': 3, b'MGET': -2}


def gen_wrong_arity(rng):
    name = pick(rng, sorted(ARITY))
    n = ARITY[name]
    if n > 0:
        count = rng.choice([c for c in (1, n - 1, n + 1, n + 2) if c != n and c >= 1])
    else:
        count = rng.randint(1, -n - 1)
    return [name] + some(rng, KEYS, count - 1, count - 1) if count > 1 else [name]


GENERATORS.append((2, gen_wrong_arity))
TOTAL = sum(w for w, _ in GENERATORS)


def generate(rng):
    x = rng.random() * TOTAL
    for w, g in GENERATORS:
        x -= w
        if x < 0:
            cmd = g(rng)
            break
    else:
        cmd = GENERATORS[-1][1](rng)
    x = rng.random()
    if x < 0.1:
        cmd = [cmd[0].lower()] + cmd[1:]
    elif x < 0.15:
        # Mixed case, letter by letter.
        cmd = [bytes(c ^ 0x20 if chr(c).isascii() and chr(c).isalpha() and rng.random() < 0.5
                     else c
                     for c in cmd[0])] + cmd[1:]
    return cmd


def inline_ok(cmd):
    """Can this command travel as an inline request unchanged?"""
    return all(a and not any(c in a for c in b' \t\r\n"\'\x00') for a in cmd)


# ---------------------------------------------------------------------------
# Comparing replies
# ---------------------------------------------------------------------------

def canon(reply):
    """A reply with arrays turned into sorted tuples (for unordered replies)."""
    kind, v = reply
    if kind == '*' and v is not None:
        return ('*', tuple(sorted(repr(r) for r in v)))
    return reply


def pairs(reply):
    kind, v = reply
    if kind != '*' or v is None or len(v) % 2:
        return reply
    return ('*', tuple(sorted(repr((v[i], v[i + 1])) for i in range(0, len(v), 2))))


def info_shape(reply):
    """INFO: a bulk string; the keyspace counts are compared by DBSIZE."""
    kind, v = reply
    return (kind, None if kind == '-' else 'text')


def compare(cmd, ref, got):
    """None when the replies agree for this command, else why not."""
    name = cmd[0].upper()
    if name in (b'SMEMBERS', b'HKEYS', b'HVALS'):
        ref, got = canon(ref), canon(got)
    elif name == b'HGETALL':
        ref, got = pairs(ref), pairs(got)
    elif name == b'INFO':
        ref, got = info_shape(ref), info_shape(got)
    elif name in (b'COMMAND', b'CONFIG'):
        # They describe the server (its command table, its settings):
        # only the reply type must agree.
        ref, got = ref[0], got[0]
    elif name in (b'TTL', b'PTTL') and ref[0] == ':' == got[0] and ref[1] >= 0 and got[1] >= 0:
        slack = 2 if name == b'TTL' else 2000
        if abs(ref[1] - got[1]) <= slack:
            return None
    if ref == got:
        return None
    return 'redis-server: %r\n  intern-kv:    %r' % (resp.value(ref), resp.value(got))


def run_seed(seed, ncommands, redis, ikv, log):
    rng = random.Random(seed)
    conns = [resp.Conn(redis.port), resp.Conn(ikv.port)]
    history = []
    done = 0
    stats, errors = {}, set()
    try:
        for c in conns:
            if c.call('FLUSHALL') != ('+', 'OK'):
                return 'FLUSHALL failed at the start'
        while done < ncommands:
            batch = [generate(rng) for _ in range(rng.choice([1, 1, 1, 2, 5, 16, 40]))]
            inline = rng.random() < 0.15 and all(inline_ok(c) for c in batch)
            wire = b''.join((resp.encode_inline if inline else resp.encode)(c) for c in batch)
            replies = []
            for c in conns:
                c.send(wire)
                replies.append([c.read() for _ in batch])
            for i, cmd in enumerate(batch):
                kind, v = replies[0][i]
                stats[kind if kind != '-' else v.split(' ')[0]] = \
                    stats.get(kind if kind != '-' else v.split(' ')[0], 0) + 1
                if kind == '-':
                    errors.add(v)
                why = compare(cmd, replies[0][i], replies[1][i])
                history.append(cmd)
                if why:
                    ctx = '\n'.join('    %r' % [bytes(a) for a in h] for h in history[-8:-1])
                    return ('seed %d, command %d (%s, batch of %d):\n  %r\n  %s\n'
                            '  the commands before it:\n%s'
                            % (seed, done + i, 'inline' if inline else 'multibulk',
                               len(batch), cmd, why, ctx))
            # DBSIZE after each batch keeps the keyspaces in step even
            # where a reply was compared loosely.
            sizes = [c.call('DBSIZE') for c in conns]
            if sizes[0] != sizes[1]:
                return ('seed %d, after command %d: DBSIZE %r vs %r; last commands:\n%s'
                        % (seed, done + len(batch) - 1, sizes[0], sizes[1],
                           '\n'.join('    %r' % h for h in history[-8:])))
            done += len(batch)
        log.write('seed %d: %d commands agree (replies: %s; %d distinct errors)\n'
                  % (seed, done, ', '.join('%s %d' % kv for kv in sorted(stats.items())),
                     len(errors)))
        if os.environ.get('DIFF_VERBOSE'):
            log.write(''.join('    %s\n' % e for e in sorted(errors)))
        return None
    finally:
        for c in conns:
            c.close()


def expiry_check(redis, ikv):
    """Short expiries, observed after they pass, on both servers."""
    conns = [resp.Conn(redis.port), resp.Conn(ikv.port)]
    setup = [[b'SET', b'e1', b'v'], [b'PEXPIRE', b'e1', b'50'],
             [b'SET', b'e2', b'v', b'PX', b'60'], [b'HSET', b'e3', b'f', b'v'],
             [b'PEXPIRE', b'e3', b'40'], [b'SADD', b'e4', b'm'], [b'EXPIRE', b'e4', b'1000'],
             [b'PERSIST', b'e4'], [b'SET', b'e5', b'v', b'EX', b'1000'], [b'TTL', b'e4'],
             [b'SET', b'e6', b'v', b'EXAT', b'1'], [b'SET', b'e7', b'v', b'PXAT', b'1000']]
    after = [[b'GET', b'e1'], [b'EXISTS', b'e1', b'e2', b'e3', b'e4', b'e6', b'e7'],
             [b'TYPE', b'e3'],
             [b'HGET', b'e3', b'f'], [b'TTL', b'e1'], [b'PTTL', b'e2'], [b'TTL', b'e4'],
             [b'DBSIZE'], [b'SET', b'e5', b'w'], [b'TTL', b'e5']]
    try:
        for c in conns:
            c.call('FLUSHALL')
        ref = conns[0].pipeline(setup)
        got = conns[1].pipeline(setup)
        time.sleep(0.3)
        ref += conns[0].pipeline(after)
        got += conns[1].pipeline(after)
        for cmd, a, b in zip(setup + after, ref, got):
            why = compare(cmd, a, b)
            if why:
                return 'expiry: %r\n  %s' % (cmd, why)
        # The background sweep: keys nobody touches still go.  Redis's
        # own sweep stops while under 10% of a sample has expired, so it
        # may keep a few; intern-kv is held to the same 10%.
        c = conns[1]
        c.pipeline([[b'SET', b'sweep%d' % i, b'v', b'PX', b'20'] for i in range(100)])
        time.sleep(1.5)
        field = resp.info_fields(c, 'keyspace')[0].get('db0', 'keys=0')
        n = int(field.split(',')[0].split('=')[1])
        if n > 10:
            return ('expiry: intern-kv still counts %d of 100 expired keys in INFO '
                    '1.5 s after they expired (%s)' % (n, field))
        return None
    finally:
        for c in conns:
            c.close()


def quit_check(redis, ikv):
    """QUIT: +OK, then the server closes the connection."""
    for srv in (redis, ikv):
        c = resp.Conn(srv.port)
        c.send(resp.encode([b'QUIT']) + resp.encode([b'PING']))
        r = c.read()
        closed = c.is_closed(5.0)
        c.close()
        if r != ('+', 'OK') or not closed:
            return '%s: QUIT replied %r, connection %s' % (
                srv.name, r, 'closed' if closed else 'left open')
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('intern_kv')
    ap.add_argument('--seeds', type=int, default=int(os.environ.get('DIFF_SEEDS', 10)))
    ap.add_argument('--commands', type=int, default=int(os.environ.get('DIFF_COMMANDS', 4000)))
    ap.add_argument('--first-seed', type=int, default=1)
    argv = sys.argv[1:]
    server_args = argv[argv.index('--') + 1:] if '--' in argv else []
    a = ap.parse_args(argv[:argv.index('--')] if '--' in argv else argv)
    a.server_args = server_args

    redis = resp.start_redis(['--databases', '1'])
    if redis is None:
        print('SKIP: redis-server is not installed')
        return resp.SKIP
    ikv = None
    try:
        ikv = resp.start_intern_kv(a.intern_kv, a.server_args)
        t0 = time.time()
        failures = []
        for check in (quit_check, expiry_check):
            why = check(redis, ikv)
            if why:
                failures.append(why)
        for seed in range(a.first_seed, a.first_seed + a.seeds):
            why = run_seed(seed, a.commands, redis, ikv, sys.stdout)
            if why:
                failures.append(why)
            if not ikv.alive():
                failures.append('intern-kv died during seed %d' % seed)
                break
        sys.stdout.write('%.1f s\n' % (time.time() - t0))
        if failures:
            for f in failures:
                sys.stdout.write('FIRST DIFFERENCE: %s\n' % f)
            return 1
        print('all replies agree')
        return 0
    finally:
        for s in (ikv, redis):
            if s is not None:
                rc, out = s.stop()
                if s is ikv and rc != 0:
                    sys.stdout.write('intern-kv exited with %s:\n%s\n' % (rc, out))


if __name__ == '__main__':
    sys.exit(main())
