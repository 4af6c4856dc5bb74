#!/usr/bin/env python3
"""intern-snapshot, run for real: words and tokens to a file and back.

    test-tool.py INTERN_SNAPSHOT

A word list (duplicates, CR LF lines, empty lines, built-in singletons,
bytes beyond ASCII) goes to a snapshot; `info` must count exactly the
distinct strings that are not built-in, `id` must give each its order of
first appearance and `get` its bytes back.  The same for a token stream
(identifiers of a C and Python text, comments and literals skipped), and
for standard input.  A corrupted, a truncated and a foreign file are each
refused with exit status 1 and the library's reason; a bad command line
exits 2 with the usage.  Prints TAP.
"""
import os
import re
import subprocess
import sys
import tempfile

TOOL = sys.argv[1]
results = []


def run(*args, stdin=None):
    p = subprocess.run([TOOL] + list(args), input=stdin, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def check(name, ok, detail=""):
    results.append((name, ok, detail))


def expect_distinct(strings):
    """Distinct strings in order of first appearance, built-ins left out."""
    seen, out = set(), []
    for s in strings:
        builtin = len(s) <= 1 or re.fullmatch(rb"-?(0|[1-9][0-9]*)", s) and -5 <= int(s) <= 1024
        if not builtin and s not in seen:
            seen.add(s)
            out.append(s)
    return out


def info_field(text, field):
    m = re.search(r"^%s:\s+(.*)$" % re.escape(field), text, re.M)
    return m.group(1) if m else None


def round_trip(name, path, expected):
    """info counts `expected`; id and get agree with the order, both ways."""
    rc, out, err = run("info", path)
    text = out.decode()
    check(name + ": info exits 0", rc == 0, err)
    count = (info_field(text, "count") or "").split(" ")[0]
    check(name + ": info counts the distinct strings", count == str(len(expected)),
          "count: %s, want %d" % (count, len(expected)))
    check(name + ": info sums their bytes",
          info_field(text, "string bytes") == "%d (without the NULs)" % sum(map(len, expected)),
          "string bytes: %s" % info_field(text, "string bytes"))
    check(name + ": info says valid", "valid" in (info_field(text, "validation") or ""), text)
    # The header read back, and the probe histogram: one entry per string,
    # its longest displacement the one the header records.
    check(name + ": info shows the header",
          (info_field(text, "format") or "").startswith("1, string ABI")
          and info_field(text, "word size") == "8 bytes", text)
    hist = [(int(m.group(1)), int(m.group(2)))
            for m in re.finditer(r"^  (?:>=|  )(\d+)\s+(\d+)\s", text, re.M)]
    check(name + ": the probe histogram counts every string once, up to the max probe",
          sum(n for _, n in hist) == len(expected) and hist
          and (max(d for d, _ in hist) == int(info_field(text, "max probe") or -1)
               or max(d for d, _ in hist) == 15),
          "histogram %r, max probe %r" % (hist, info_field(text, "max probe")))
    bad = []
    for i, s in enumerate(expected):
        if b"\0" in s:
            continue
        rc, out, err = run("get", path, str(i))
        if rc != 0 or out != s + b"\n":
            bad.append("get %d: %r (%s)" % (i, out, err.strip()))
        if s.isascii() and not s.startswith(b"-"):
            rc, out, err = run("id", path, s.decode())
            if rc != 0 or out.strip() != str(i).encode():
                bad.append("id %r: %r (%s)" % (s, out, err.strip()))
    check(name + ": get and id give back every string and ID", not bad, "; ".join(bad[:5]))
    rc, _, err = run("get", path, str(len(expected)))
    check(name + ": get past the last ID fails", rc == 1 and "no string" in err, err)
    rc, _, err = run("id", path, "surely_not_in_it_zz")
    check(name + ": id of an absent string fails", rc == 1 and "not in" in err, err)


def main():
    tmp = tempfile.mkdtemp(prefix="intern-snapshot-test.")
    words = [b"content-length", b"user_agent", b"x", b"", b"200", b"content-length",
             b"caf\xc3\xa9", b"two words", b"a" * 3000, b"accept\r",
             b"user_agent"] + [b"field_%d" % i for i in range(40)]
    wordfile = os.path.join(tmp, "words.txt")
    with open(wordfile, "wb") as f:
        f.write(b"\n".join(words) + b"\n\n")
    # A trailing CR belongs to the line ending, not to the word.
    expected = expect_distinct([w.rstrip(b"\r") for w in words])
    snap = os.path.join(tmp, "words.snap")
    rc, out, err = run("write", "-o", snap, wordfile)
    check("words: write exits 0", rc == 0, err)
    check("words: write reports the count", (b"%d strings" % len(expected)) in out, out)
    round_trip("words", snap, expected)

    # Standard input, the default format being words.
    snap_stdin = os.path.join(tmp, "stdin.snap")
    rc, out, err = run("write", "--words", "-o", snap_stdin, stdin=b"alpha\nbeta\nalpha\n")
    check("stdin: write exits 0", rc == 0, err)
    round_trip("stdin", snap_stdin, [b"alpha", b"beta"])

    source = (b'/* a comment_word */\nint parse_header(const char *name) {\n'
              b'    // line_comment here\n    return lookup("string_literal", 42, 0x1f) + name_len;\n}\n'
              b"def handle(request):\n    return request.path  # python 'quoted_word'\n")
    srcfile = os.path.join(tmp, "source.c")
    with open(srcfile, "wb") as f:
        f.write(source)
    tokens = [b"int", b"parse_header", b"const", b"char", b"name", b"return", b"lookup",
              b"name_len", b"def", b"handle", b"request", b"return", b"request", b"path", b"python"]
    snap_tok = os.path.join(tmp, "tokens.snap")
    rc, out, err = run("write", "--tokens", "-o", snap_tok, srcfile)
    check("tokens: write exits 0", rc == 0, err)
    round_trip("tokens", snap_tok, expect_distinct(tokens))

    # Refused files: the library's reason, exit status 1.
    data = open(snap, "rb").read()
    corrupt = os.path.join(tmp, "corrupt.snap")
    with open(corrupt, "wb") as f:
        mid = len(data) // 2
        f.write(data[:mid] + bytes([data[mid] ^ 0x40]) + data[mid + 1:])
    truncated = os.path.join(tmp, "truncated.snap")
    with open(truncated, "wb") as f:
        f.write(data[: len(data) // 3])
    for name, path in (("corrupted", corrupt), ("truncated", truncated), ("a text file", wordfile)):
        rc, out, err = run("info", path)
        m = re.search(r"refused: (.+)", err)
        check("%s: refused with exit 1 and the reason" % name,
              rc == 1 and m is not None and len(m.group(1).strip()) > 3, "exit %d: %s" % (rc, err))
    rc, _, err = run("info", os.path.join(tmp, "missing.snap"))
    check("a missing file: exit 1", rc == 1 and "refused" in err, err)

    for args in (["--no-such-option"], [], ["frobnicate"], ["write", "--bogus"],
                 ["info"], ["get", snap], ["get", snap, "x1"], ["id", snap, "a", "b"]):
        rc, _, err = run(*args)
        check("usage: %s exits 2" % " ".join(args), rc == 2 and "usage" in err, "exit %d" % rc)

    subprocess.run(["rm", "-rf", tmp])
    print("1..%d" % len(results))
    for i, (name, ok, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        if not ok and detail:
            for line in str(detail).splitlines()[:10]:
                print("# " + line)
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
