#!/usr/bin/env python3
"""intern-kv against malformed and hostile clients.

Each bad client gets an error reply or a closed connection (or, for a
request that is only incomplete, nothing), and meanwhile a well-behaved
client keeps being served promptly; at the end the server is up, has let
go of every bad client (INFO connected_clients), and exits 0 on SIGTERM.

  - malformed RESP: bad multibulk and bulk lengths, a missing '$', absurd
    lengths (above the 512 MB bulk and 1M argument limits, beyond 64
    bits), unbalanced quotes and an oversized inline request, binary junk;
  - clients that disconnect mid-command, many at once, some after
    declaring a huge argument;
  - a client that trickles a request one byte at a time, and one that
    pipelines requests without reading its replies;
  - --maxclients: the client past the limit gets Redis's error.

usage: test-badinput.py INTERN_KV [SERVER_ARGS...]
"""
import os
import random
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resp  # noqa: E402

# Malformed requests: each must get an error reply or a closed connection.
MALFORMED = [
    ('multibulk length not a number', b'*abc\r\n'),
    ('multibulk length beyond 64 bits', b'*99999999999999999999999\r\n'),
    ('more than 1M arguments', b'*1048577\r\n'),
    ('argument without $', b'*1\r\n+PING\r\n'),
    ('bulk length not a number', b'*1\r\n$abc\r\n'),
    ('negative bulk length', b'*1\r\n$-7\r\n'),
    ('bulk length above 512 MB', b'*1\r\n$536870913\r\n'),
    ('bulk length beyond 64 bits', b'*1\r\n$99999999999999999999999\r\n'),
    ('unbalanced quotes inline', b'SET "abc def\r\n'),
    ('inline request over 64 KB', b'A' * (70 * 1024)),
    ('NUL and high bytes', b'\x00\xff\xfe*\r\n$\r\n\x01\x02'),
]


def probe(port, name, data, errors):
    c = resp.Conn(port, timeout=10)
    try:
        c.send(data)
        try:
            c.sock.settimeout(5)
            reply = c.read()
        except (resp.Closed, ConnectionResetError, BrokenPipeError):
            print('  %-34s closed' % name)
            return
        except socket.timeout:
            errors.append('%s: neither a reply nor a close in 5 s' % name)
            return
        closed = c.is_closed(2)
        print('  %-34s %r%s' % (name, resp.value(reply)[:70], ', closed' if closed else ''))
        if reply[0] != '-':
            errors.append('%s: replied %r, not an error' % (name, reply))
    finally:
        c.close()


def junk(port, seed, errors):
    """Random bytes: whatever they parse as, the server answers or closes."""
    rng = random.Random(seed)
    c = resp.Conn(port, timeout=10)
    try:
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096)))
        c.send(data + b'\r\n')
    except OSError:
        pass
    c.close()


def disconnect_mid_command(port, i):
    c = resp.Conn(port, timeout=10)
    pieces = [
        b'*3\r\n$3\r\nSET\r\n$5\r\nkey',
        b'*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$100000\r\n' + b'v' * 50000,
        b'*2\r\n$3\r\nGET\r\n',
        b'*5\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n',
        b'*1\r\n$500000000\r\nabc',
        b'PING',
        b'*3\r\n$3\r\nSET\r\n$2\r\nk%d\r\n$1\r\nv\r\n*2\r\n$3\r\nGET' % i,
    ]
    try:
        c.send(pieces[i % len(pieces)])
    except OSError:
        pass
    c.close()


class Watchdog:
    """A well-behaved client that pings all along and records slow replies."""

    def __init__(self, port):
        self.conn = resp.Conn(port, timeout=10)
        self.worst, self.count, self.errors = 0.0, 0, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        n = 0
        while not self.stop.is_set():
            t = time.time()
            try:
                key = b'wd:%d' % (n % 100)
                got = self.conn.pipeline([[b'SET', key, b'%d' % n], [b'GET', key]])
            except Exception as e:
                self.errors.append('watchdog: %r' % e)
                return
            if got != [('+', 'OK'), ('$', b'%d' % n)]:
                self.errors.append('watchdog: SET/GET replied %r' % got)
                return
            self.worst = max(self.worst, time.time() - t)
            self.count += 1
            n += 1
            time.sleep(0.005)

    def finish(self):
        self.stop.set()
        self.thread.join(20)
        self.conn.close()
        if self.worst > 1.0:
            self.errors.append('watchdog: a SET+GET took %.2f s while bad clients ran'
                               % self.worst)
        if self.count < 10:
            self.errors.append('watchdog: only %d round trips' % self.count)
        return self.errors


def trickle(port, errors):
    """One byte every 10 ms: served when complete, blocks nobody."""
    c = resp.Conn(port, timeout=10)
    for b in resp.encode([b'ECHO', b'slowly']):
        c.send(bytes([b]))
        time.sleep(0.01)
    r = c.read()
    if r != ('$', b'slowly'):
        errors.append('trickled ECHO replied %r' % (r,))
    c.close()


def no_reader(port):
    """Pipelines big replies without reading them, then goes away."""
    c = resp.Conn(port, timeout=10)
    c.call('SET', 'big', b'x' * 100000)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.sock.settimeout(3)
    try:
        for _ in range(200):
            c.send(resp.encode([b'GET', b'big']) * 100)
    except (socket.timeout, OSError):
        pass  # the server stopped reading us: its choice
    c.close()


def maxclients_check(path, extra, errors):
    srv = resp.start_intern_kv(path, list(extra) + ['--maxclients', '4'])
    conns = []
    try:
        # The launcher's probe connection may still be closing.
        time.sleep(0.2)
        conns = [resp.Conn(srv.port) for _ in range(4)]
        for c in conns:
            if c.call('PING') != ('+', 'PONG'):
                errors.append('maxclients: a client under the limit was refused')
        extra_conn = resp.Conn(srv.port)
        try:
            extra_conn.sock.settimeout(5)
            r = extra_conn.read()
            if r != ('-', 'ERR max number of clients reached'):
                errors.append('maxclients: the 5th client got %r' % (r,))
            if not extra_conn.is_closed(5):
                errors.append('maxclients: the 5th client was not disconnected')
        except resp.Closed:
            errors.append('maxclients: closed without the error reply')
        except socket.timeout:
            errors.append('maxclients: the 5th client got nothing in 5 s')
        extra_conn.close()
        conns[0].close()
        time.sleep(0.3)
        c = resp.Conn(srv.port)
        if c.call('PING') != ('+', 'PONG'):
            errors.append('maxclients: a slot freed by a client leaving was not reused')
        c.close()
    finally:
        for c in conns[1:]:
            c.close()
        rc, out = srv.stop()
        if rc != 0:
            errors.append('maxclients server exited with %s:\n%s' % (rc, out))


def rss_kb(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    path, extra = sys.argv[1], sys.argv[2:]
    errors = []
    ikv = resp.start_intern_kv(path, extra)
    try:
        wd = Watchdog(ikv.port)
        for name, data in MALFORMED:
            probe(ikv.port, name, data, errors)
        print('malformed requests: %d checked' % len(MALFORMED))
        threads = [threading.Thread(target=junk, args=(ikv.port, s, errors)) for s in range(40)]
        threads += [threading.Thread(target=disconnect_mid_command, args=(ikv.port, i))
                    for i in range(70)]
        threads += [threading.Thread(target=trickle, args=(ikv.port, errors)),
                    threading.Thread(target=no_reader, args=(ikv.port,))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        print('junk, mid-command disconnects, a trickling and a non-reading client: done')
        errors += wd.finish()
        print('watchdog: %d SET+GET round trips, slowest %.3f s' % (wd.count, wd.worst))
        c = resp.Conn(ikv.port)
        deadline = time.time() + 10
        while True:
            clients = int(resp.info_fields(c, 'clients')[0].get('connected_clients', -1))
            if clients == 1 or time.time() > deadline:
                break
            time.sleep(0.1)
        if clients != 1:
            errors.append('INFO connected_clients is %d with one client left' % clients)
        rss = rss_kb(ikv.proc.pid)
        print('connected_clients %d, RSS %d KiB' % (clients, rss))
        if rss > 300 * 1024:
            errors.append('RSS %d KiB after the bad clients left' % rss)
        if c.call('PING') != ('+', 'PONG'):
            errors.append('the server stopped answering PING')
        c.close()
    finally:
        rc, out = ikv.stop()
        if rc != 0:
            errors.append('intern-kv exited with %s on SIGTERM:\n%s' % (rc, out))
    maxclients_check(path, extra, errors)
    for e in errors:
        print('FAIL: %s' % e)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
