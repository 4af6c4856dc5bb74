"""A small RESP2 client and server launcher for the server tests.

Replies are parsed into tuples that keep RESP's types, so that two servers'
replies compare exactly: ('+', str), ('-', str), (':', int),
('$', bytes or None), ('*', list or None).  Nothing here depends on a
Redis client library: the tests must run on a bare Python 3.
"""
import os
import signal
import socket
import subprocess
import sys
import time

SKIP = 77  # meson's exit status for a skipped test


class Closed(Exception):
    """The server closed the connection."""


class Conn:
    def __init__(self, port, host='127.0.0.1', timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise Closed()
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b'\r\n')
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n + 2]
        return data

    def read(self):
        """One reply, as a typed tuple.  Raises Closed on EOF."""
        line = self._line()
        kind, rest = chr(line[0]), line[1:]
        if kind == '+':
            return ('+', rest.decode('latin-1'))
        if kind == '-':
            return ('-', rest.decode('latin-1'))
        if kind == ':':
            return (':', int(rest))
        if kind == '$':
            n = int(rest)
            return ('$', None if n < 0 else self._exact(n))
        if kind == '*':
            n = int(rest)
            return ('*', None if n < 0 else [self.read() for _ in range(n)])
        raise ValueError('not a RESP reply: %r' % line[:80])

    def call(self, *args):
        self.send(encode(args))
        return self.read()

    def pipeline(self, commands):
        """Send every command in one write, then read one reply each."""
        self.send(b''.join(encode(c) for c in commands))
        return [self.read() for _ in commands]

    def is_closed(self, timeout=5.0):
        """Wait until the server closes this connection (True) or the
        timeout passes (False); replies that arrive meanwhile are dropped."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(1 << 16):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True


def arg_bytes(a):
    if isinstance(a, bytes):
        return a
    if isinstance(a, int):
        return str(a).encode()
    return a.encode('utf-8', 'surrogateescape')


def encode(args):
    """A multibulk request."""
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        b = arg_bytes(a)
        out.append(b'$%d\r\n%s\r\n' % (len(b), b))
    return b''.join(out)


def encode_inline(args):
    """An inline request: the arguments separated by spaces (the caller
    passes only arguments without spaces, quotes or line breaks)."""
    return b' '.join(arg_bytes(a) for a in args) + b'\r\n'


def value(reply):
    """A reply without its types, for readable messages."""
    kind, v = reply
    if kind == '*' and v is not None:
        return [value(r) for r in v]
    return v


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """A server process on a free loopback port, stopped by stop()."""

    def __init__(self, argv, name, port, wrapper=(), ready_timeout=30.0, env_extra=None):
        self.name, self.port = name, port
        # meson sets MALLOC_PERTURB_ for tests: glibc then writes every
        # byte of every allocation.  A server reserves the whole of a large
        # argument as soon as its length arrives (Redis and intern-kv both
        # do, up to 512 MB), which is only address space until the bytes
        # come; perturbed, it is seconds of memset that stall the worker
        # thread.  The servers run with the allocator as users run it.
        env = dict(os.environ)
        env.pop('MALLOC_PERTURB_', None)
        env.update(env_extra or {})
        self.proc = subprocess.Popen(list(wrapper) + list(argv), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env)
        deadline = time.time() + ready_timeout
        while True:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode('latin-1', 'replace')
                raise RuntimeError('%s exited with %s before serving:\n%s'
                                   % (name, self.proc.returncode, out))
            try:
                c = Conn(port, timeout=2.0)
                if c.call('PING') == ('+', 'PONG'):
                    c.close()
                    break
                c.close()
            except (OSError, Closed):
                pass
            if time.time() > deadline:
                self.proc.kill()
                raise RuntimeError('%s not serving on port %d after %.0f s'
                                   % (name, port, ready_timeout))
            time.sleep(0.05)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Signal the server and wait; returns (exit status, output)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        out = self.proc.stdout.read().decode('latin-1', 'replace')
        return self.proc.returncode, out


def start_intern_kv(path, extra=(), wrapper=(), ready_timeout=30.0, env_extra=None):
    port = free_port()
    return Server([path, '--port', str(port)] + list(extra), 'intern-kv', port,
                  wrapper=wrapper, ready_timeout=ready_timeout, env_extra=env_extra)


def redis_server_path():
    for d in os.environ.get('PATH', '/usr/bin:/bin').split(os.pathsep) + ['/usr/bin', '/usr/sbin']:
        p = os.path.join(d, 'redis-server')
        if os.access(p, os.X_OK):
            return p
    return None


def start_redis(extra=()):
    path = redis_server_path()
    if path is None:
        return None
    port = free_port()
    return Server([path, '--port', str(port), '--bind', '127.0.0.1', '--save', '',
                   '--appendonly', 'no', '--daemonize', 'no'] + list(extra),
                  'redis-server', port)


def info_fields(conn, section=None):
    """INFO as a dict of name -> value (strings), and the section names."""
    kind, text = conn.call('INFO', section) if section else conn.call('INFO')
    if kind != '$' or text is None:
        raise AssertionError('INFO replied %r' % ((kind, text),))
    fields, sections = {}, []
    for line in text.decode('latin-1').split('\r\n'):
        if line.startswith('# '):
            sections.append(line[2:].strip())
        elif ':' in line:
            k, v = line.split(':', 1)
            fields[k] = v
    return fields, sections


def fail(msg):
    sys.stdout.write('FAIL: %s\n' % msg)
    sys.stdout.flush()
    sys.exit(1)
