#!/usr/bin/env python3
"""Measure intern-kv against intern-kv --no-intern and redis-server.

Throughput: redis-benchmark -t set,get,incr,hset,mset, -c 50, random keys
(-r), with -P 1 and -P 16, against the three servers in one run; each
figure is the median of --reps runs, repetitions interleaved across the
servers so that a slow spell of the machine lands on all of them alike.

Memory: RSS (VmRSS of /proc/PID/status) of each server, fresh, before and
after loading a dataset with redis-cli --pipe:
  repeating  --hashes hashes of 8 fields; the field names are the same 8 in
             every hash, the values come from a few thousand distinct
             strings of 40-120 bytes (user agents, URLs, countries,
             languages, referrers...): what a session or event store holds;
  unique     as many hashes of 8 fields, every field name and value
             distinct (the worst case for interning: nothing to share).

Each part runs under the shared benchmark lock (--lock, flock(2)), one part
at a time, so no other measurement on the machine overlaps it.  Prints
Markdown tables (and writes them to --md).

usage: stress/server/measure.py [--build build] [--part all|throughput|memory]
       [--reps 3] [--hashes 200000] [--md FILE]
"""
import argparse
import csv
import fcntl
import io
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# The server tests' helpers: one free-port finder for both.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', '..', 'tests', 'server'))
from resp import free_port  # noqa: E402

TESTS = ['SET', 'GET', 'INCR', 'HSET', 'MSET (10 keys)']


class Server:
    def __init__(self, name, argv):
        self.name, self.argv, self.proc, self.port = name, argv, None, None

    def start(self):
        self.port = free_port()
        argv = [a.replace('@PORT@', str(self.port)) for a in self.argv]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit('%s exited with %s' % (self.name, self.proc.returncode))
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=1) as s:
                    s.sendall(b'PING\r\n')
                    if s.recv(64).startswith(b'+PONG'):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        sys.exit('%s did not start' % self.name)

    def cli(self, *args):
        return subprocess.run(['redis-cli', '-p', str(self.port)] + list(args), check=True,
                              capture_output=True, text=True).stdout

    def rss_kib(self):
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def servers(build, threads):
    ikv = os.path.join(build, 'stress', 'server', 'intern-kv')
    redis = shutil.which('redis-server')
    if not os.access(ikv, os.X_OK):
        sys.exit('%s is not built' % ikv)
    if not redis:
        sys.exit('redis-server is not installed')
    base = [ikv, '--port', '@PORT@', '--threads', str(threads)]
    return [Server('intern-kv', base),
            Server('intern-kv --no-intern', base + ['--no-intern']),
            Server('redis-server', [redis, '--port', '@PORT@', '--bind', '127.0.0.1',
                                    '--save', '', '--appendonly', 'no', '--daemonize', 'no'])]


class Lock:
    """flock(2) on the shared benchmark lock for the length of a part."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.f = open(self.path, 'a')
        t = time.time()
        fcntl.flock(self.f, fcntl.LOCK_EX)
        waited = time.time() - t
        if waited > 1:
            print('(waited %.0f s for %s)' % (waited, self.path), file=sys.stderr)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


# ---------------------------------------------------------------------------
# Throughput
# ---------------------------------------------------------------------------

def bench_once(srv, pipeline, requests, keyspace):
    out = subprocess.run(['redis-benchmark', '-p', str(srv.port), '-t', 'set,get,incr,hset,mset',
                          '-c', '50', '-r', str(keyspace), '-n', str(requests),
                          '-P', str(pipeline), '--csv'],
                         check=True, capture_output=True, text=True, timeout=300).stdout
    rows = list(csv.reader(io.StringIO(out)))
    return {r[0]: float(r[1]) for r in rows[1:] if len(r) > 1}


def throughput(a, srvs):
    results = {}  # (server, P, test) -> [rps]
    plan = [(1, a.requests_p1), (16, a.requests_p16)]
    t0 = time.time()
    for s in srvs:
        s.start()
    try:
        for rep in range(a.reps):
            # Rotate the order each repetition.
            order = srvs[rep % len(srvs):] + srvs[:rep % len(srvs)]
            for s in order:
                for p, n in plan:
                    s.cli('FLUSHALL')
                    for test, rps in bench_once(s, p, n, a.keyspace).items():
                        results.setdefault((s.name, p, test), []).append(rps)
            print('throughput: repetition %d of %d done (%.0f s)'
                  % (rep + 1, a.reps, time.time() - t0), file=sys.stderr)
    finally:
        for s in srvs:
            s.stop()
    med = {k: statistics.median(v) for k, v in results.items()}
    names = [s.name for s in srvs]
    lines = ['| test | -P | ' + ' | '.join('%s (req/s)' % n for n in names) +
             ' | intern-kv / redis-server | intern-kv / --no-intern |',
             '|---|---|' + '---|' * (len(names) + 2)]
    for p, _ in plan:
        for test in TESTS:
            v = [med.get((n, p, test), 0) for n in names]
            ratio = lambda x, y: '%.2fx' % (x / y) if y else 'n/a'
            lines.append('| %s | %d | %s | %s | %s |' % (
                test, p, ' | '.join('%.0f' % x for x in v), ratio(v[0], v[2]), ratio(v[0], v[1])))
    spread = max((max(v) - min(v)) / statistics.median(v) for v in results.values() if v)
    lines.append('')
    lines.append('Medians of %d runs each; the widest run-to-run spread of any cell was %.0f%% '
                 'of its median. %.0f s in all.' % (a.reps, 100 * spread, time.time() - t0))
    return '\n'.join(lines)


# ---------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------

FIELDS = ['user_agent', 'url', 'country', 'language', 'referrer', 'device', 'os', 'campaign']


def pad(rng, text, lo=40, hi=120):
    """Stretch or cut `text` to a length drawn from [lo, hi]."""
    n = rng.randint(lo, hi)
    while len(text) < n:
        text += ' ' + rng.choice(['(compatible)', 'en-US', 'x64', 'rv:109.0', 'build/7',
                                   'utm_source=news', 'ref=home', 'region=north'])
    return text[:n]


def value_pools(rng, per_field):
    browsers = ['Chrome/%d.0.%d.%d' % (v, b, p) for v in range(90, 121) for b, p in
                ((4400, 1), (5100, 64), (6099, 109))]
    systems = ['Windows NT 10.0; Win64; x64', 'Macintosh; Intel Mac OS X 10_15_7',
               'X11; Linux x86_64', 'iPhone; CPU iPhone OS 17_1 like Mac OS X',
               'Linux; Android 14; Pixel 8', 'X11; Ubuntu; Linux x86_64']
    countries = ['United States of America', 'United Kingdom of Great Britain and Northern Ireland',
                 'Germany', 'France', 'Japan', 'Brazil', 'India', 'Canada', 'Australia',
                 'Republic of Korea', 'Mexico', 'Netherlands', 'Sweden', 'South Africa', 'Argentina',
                 'Democratic Republic of the Congo', 'New Zealand', 'Switzerland', 'Spain', 'Italy']
    sites = ['example.com', 'shop.example.org', 'news.example.net', 'docs.example.io',
             'video.example.tv', 'mail.example.com']
    words = ['products', 'article', 'search', 'watch', 'checkout', 'account', 'help', 'category',
             'item', 'blog', 'settings', 'cart']
    makers = {
        'user_agent': lambda: 'Mozilla/5.0 (%s) AppleWebKit/537.36 (KHTML, like Gecko) %s Safari/537.36'
        % (rng.choice(systems), rng.choice(browsers)),
        'url': lambda: 'https://%s/%s/%s/%d?id=%d' % (rng.choice(sites), rng.choice(words),
                                                      rng.choice(words), rng.randint(1, 999),
                                                      rng.randint(1, 99999)),
        'country': lambda: 'country=%s; region=%s; city-%d' % (rng.choice(countries),
                                                               rng.choice(words), rng.randint(1, 99)),
        'language': lambda: 'Accept-Language: %s-%s,%s;q=0.9,en;q=0.8 variant %d' % (
            rng.choice(['en', 'de', 'fr', 'ja', 'pt', 'es']), rng.choice(['US', 'GB', 'DE', 'BR']),
            rng.choice(['en', 'de', 'fr']), rng.randint(1, 99)),
        'referrer': lambda: 'https://www.%s/%s?q=%s&page=%d' % (rng.choice(sites), rng.choice(words),
                                                                rng.choice(words), rng.randint(1, 50)),
        'device': lambda: 'device=%s; screen=%dx%d; dpr=%d' % (
            rng.choice(['desktop', 'phone', 'tablet', 'tv']), rng.choice([1280, 1920, 2560, 390]),
            rng.choice([720, 1080, 1440, 844]), rng.randint(1, 3)),
        'os': lambda: 'os=%s; kernel=%d.%d.%d' % (rng.choice(systems), rng.randint(4, 6),
                                                   rng.randint(0, 19), rng.randint(0, 99)),
        'campaign': lambda: 'utm_campaign=%s_%s_%d&utm_medium=%s' % (
            rng.choice(words), rng.choice(words), rng.randint(1, 500), rng.choice(['email', 'cpc', 'social'])),
    }
    pools = {}
    for f in FIELDS:
        seen = set()
        while len(seen) < per_field:
            seen.add(pad(rng, makers[f]()).encode())
        pools[f] = sorted(seen)
    return pools


def resp_cmd(args):
    return b'*%d\r\n' % len(args) + b''.join(b'$%d\r\n%s\r\n' % (len(x), x) for x in args)


def write_dataset(path, kind, hashes, seed=7):
    rng = random.Random(seed)
    pools = value_pools(rng, 500) if kind == 'repeating' else None
    total = 0
    with open(path, 'wb') as f:
        for h in range(hashes):
            args = [b'HSET', b'session:%d' % h]
            for i, field in enumerate(FIELDS):
                if pools:
                    args += [field.encode(), rng.choice(pools[field])]
                else:
                    args += [b'%s:%d' % (field.encode(), h),
                             pad(rng, '%d-%d-%x' % (h, i, rng.getrandbits(64))).encode()]
            total += sum(len(x) for x in args[2::2]) + sum(len(x) for x in args[3::2])
            f.write(resp_cmd(args))
    distinct = sum(len(p) for p in pools.values()) if pools else hashes * 8
    return total, distinct


def load(srv, path):
    with open(path, 'rb') as f:
        out = subprocess.run(['redis-cli', '-p', str(srv.port), '--pipe'], stdin=f, check=True,
                             capture_output=True, text=True, timeout=600).stdout
    if 'errors: 0' not in out:
        sys.exit('%s: redis-cli --pipe reported errors:\n%s' % (srv.name, out))


def memory(a, srvs, lock):
    tmp = tempfile.mkdtemp(prefix='intern-kv-measure-')
    rows, info = [], {}
    try:
        # Generate outside the lock: only the loads are measured.
        for kind in ('repeating', 'unique'):
            info[kind] = write_dataset(os.path.join(tmp, kind + '.resp'), kind, a.hashes)
        with lock:
            for kind in ('repeating', 'unique'):
                path = os.path.join(tmp, kind + '.resp')
                payload, distinct = info[kind]
                for s in srvs:
                    s.start()
                    try:
                        time.sleep(0.3)
                        before = s.rss_kib()
                        t = time.time()
                        load(s, path)
                        secs = time.time() - t
                        time.sleep(1.0)  # deferred frees, lazy expiry work
                        after = s.rss_kib()
                        n = int(s.cli('DBSIZE').strip())
                        rows.append((kind, s.name, before, after, n, payload, distinct, secs))
                    finally:
                        s.stop()
                print('memory: %s dataset done' % kind, file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = ['| dataset | server | RSS empty (MiB) | RSS loaded (MiB) | growth (MiB) | '
             'vs --no-intern | vs redis-server | keys | load s |',
             '|---|---|---|---|---|---|---|---|---|']
    for kind in ('repeating', 'unique'):
        sub = [r for r in rows if r[0] == kind]
        ref = {r[1]: r[3] for r in sub}
        for r in sub:
            lines.append('| %s | %s | %.1f | %.1f | %.1f | %.2fx | %.2fx | %d | %.1f |' % (
                kind, r[1], r[2] / 1024, r[3] / 1024, (r[3] - r[2]) / 1024,
                r[3] / ref['intern-kv --no-intern'], r[3] / ref['redis-server'], r[4], r[7]))
    for kind in ('repeating', 'unique'):
        r = [x for x in rows if x[0] == kind][0]
        lines.append('')
        lines.append('%s: %d hashes x 8 fields, %.1f MiB of field names and values, %d distinct '
                     'values.' % (kind, a.hashes, r[5] / 2**20, r[6]))
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--part', choices=['all', 'throughput', 'memory'], default='all')
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--requests-p1', type=int, default=60000)
    ap.add_argument('--requests-p16', type=int, default=400000)
    ap.add_argument('--keyspace', type=int, default=100000)
    ap.add_argument('--hashes', type=int, default=200000)
    ap.add_argument('--lock', default='/tmp/libintern-bench.lock')
    ap.add_argument('--md')
    a = ap.parse_args()
    for tool in ('redis-benchmark', 'redis-cli'):
        if not shutil.which(tool):
            sys.exit('%s is not installed (Debian: redis-tools)' % tool)
    srvs = servers(a.build, a.threads)
    out = ['Command: `%s`' % ' '.join(['stress/server/measure.py'] + sys.argv[1:]),
           '', 'Host: %d cores; redis-server %s; intern-kv with --threads %d.' % (
               os.cpu_count(), subprocess.run(['redis-server', '--version'], capture_output=True,
                                              text=True).stdout.split()[2].replace('v=', ''),
               a.threads)]
    if a.part in ('all', 'throughput'):
        with Lock(a.lock):
            out += ['', '### Throughput (redis-benchmark, -c 50, -r %d; -n %d at -P 1, %d at -P 16)'
                    % (a.keyspace, a.requests_p1, a.requests_p16), '', throughput(a, srvs)]
    if a.part in ('all', 'memory'):
        out += ['', '### Memory (RSS after redis-cli --pipe)', '', memory(a, srvs, Lock(a.lock))]
    text = '\n'.join(out) + '\n'
    sys.stdout.write(text)
    if a.md:
        with open(a.md, 'w') as f:
            f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
