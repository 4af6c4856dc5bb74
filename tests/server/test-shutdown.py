#!/usr/bin/env python3
"""intern-kv stops cleanly: exit status 0 on SIGINT and on SIGTERM, with
data loaded, expiring keys, clients still connected and one stopped half-way
through a request; and under valgrind memcheck, no leak and no error (in a
sanitizer build, LeakSanitizer checks the plain runs the same way).

usage: test-shutdown.py INTERN_KV [SERVER_ARGS...]
valgrind is optional: without it that part is skipped (and said so).
"""
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resp  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def workload(port, n):
    c = resp.Conn(port, timeout=60)
    cmds = []
    for i in range(n):
        cmds += [[b'SET', b'k%d' % i, b'value-%d' % (i % 50)],
                 [b'HSET', b'h%d' % (i % 100), b'f%d' % (i % 8), b'v%d' % (i % 30)],
                 [b'SADD', b's%d' % (i % 10), b'm%d' % i],
                 [b'INCRBY', b'n%d' % (i % 20), b'%d' % (i * 1000)]]
        if i % 7 == 0:
            cmds.append([b'PEXPIRE', b'k%d' % i, b'50'])
        if i % 11 == 0:
            cmds.append([b'EXPIRE', b'h%d' % (i % 100), b'1000'])
        if i % 5 == 0:
            cmds.append([b'DEL', b'k%d' % (i // 2)])
    for k in range(0, len(cmds), 500):
        for reply in c.pipeline(cmds[k:k + 500]):
            if reply[0] == '-':
                raise AssertionError('workload: %r' % (reply,))
    c.call('FLUSHDB')  # frees everything once, then load again
    c.pipeline(cmds[:len(cmds) // 2])
    # Clients left behind at shutdown: idle, and half-way through a request.
    idle = resp.Conn(port)
    idle.call('PING')
    half = resp.Conn(port)
    half.send(b'*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$100\r\nabc')
    return [c, idle, half]


def run(path, extra, sig, wrapper=(), n=3000, ready=30.0, env_extra=None):
    srv = resp.start_intern_kv(path, extra, wrapper=wrapper, ready_timeout=ready,
                               env_extra=env_extra)
    try:
        conns = workload(srv.port, n)
    except Exception as e:
        srv.stop(signal.SIGKILL)
        return 'workload failed: %r' % e
    rc, out = srv.stop(sig, timeout=120)
    for c in conns:
        c.close()
    name = signal.Signals(sig).name
    if rc != 0:
        return '%s%s: exit status %s\n%s' % (' '.join(wrapper[:1]) + ' ' if wrapper else '',
                                            name, rc, out[-4000:])
    print('%s%s: exit 0' % ('valgrind, ' if wrapper else '', name))
    return None


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    path, extra = sys.argv[1], sys.argv[2:]
    failures = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        why = run(path, extra, sig)
        if why:
            failures.append(why)
    valgrind = shutil.which('valgrind')
    with open(path, 'rb') as f:
        sanitized = any(sym in f.read() for sym in (b'__asan_init', b'__tsan_init'))
    if sanitized:
        print('a sanitizer build: its own leak check ran above; memcheck part skipped')
    elif valgrind:
        wrapper = [valgrind, '--quiet', '--error-exitcode=99', '--leak-check=full',
                   '--show-leak-kinds=definite,indirect,possible',
                   '--errors-for-leak-kinds=definite,indirect,possible',
                   '--suppressions=' + os.path.join(HERE, '..', 'valgrind.supp')]
        # glibc keeps the stacks of joined threads for reuse, and with them
        # their TLS vectors, which memcheck then calls possibly lost (seen
        # with --no-intern); an empty stack cache frees them at the join.
        why = run(path, extra, signal.SIGTERM, wrapper=wrapper, n=600, ready=60.0,
                  env_extra={'GLIBC_TUNABLES': 'glibc.pthread.stack_cache_size=0'})
        if why:
            failures.append(why)
    else:
        print('valgrind not installed: memcheck part skipped')
    for f in failures:
        print('FAIL: %s' % f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
