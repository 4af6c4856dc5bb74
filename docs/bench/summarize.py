#!/usr/bin/env python3
"""Summarize intern-bench CSV files as the Markdown tables of docs/benchmarks.md.

usage: summarize.py RESULTS.csv [SAME-HASH.csv]

Prints, for each workload, the median Mops/s of every row at every thread
count; with a second file (the same run with --same-hash), each cell of the
first file is followed by the same-hash figure in brackets.  Then the
benchmark's own target lines (PASS/MISS) of the first file.
"""
import csv
import sys
from collections import OrderedDict

WORKLOADS = OrderedDict([
    ("tokens", "real tokens"),
    ("hits-small", "all hits, 1,000 keys"),
    ("hits-large", "all hits, 1M keys (beyond the caches)"),
    ("misses", "all misses (unique inserts)"),
    ("churn", "mortal churn (intern, release at once)"),
    ("hot", "one hot string"),
    ("hot-mortal", "one hot mortal string"),
    ("hot-mortal-1k", "1,000 hot mortal strings"),
])


def read(path):
    cells = OrderedDict()
    targets = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "throughput" and row["mops_median"]:
                key = (row["workload"], row["impl"])
                cells.setdefault(key, {})[int(row["threads"])] = float(row["mops_median"])
            elif row["kind"] == "target":
                targets.append((row["status"], row["note"]))
    return cells, targets


def fmt(v):
    return "" if v is None else ("%.1f" % v)


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    cells, targets = read(argv[1])
    same = read(argv[2])[0] if len(argv) == 3 else {}
    threads = sorted({t for c in cells.values() for t in c})
    print("| workload | row | " + " | ".join(str(t) for t in threads) + " |")
    print("|---|---|" + "---:|" * len(threads))
    for wl, title in WORKLOADS.items():
        first = True
        for (w, impl), by_t in cells.items():
            if w != wl:
                continue
            out = []
            for t in threads:
                v = fmt(by_t.get(t))
                s = same.get((w, impl), {}).get(t)
                if v and s is not None and impl != "glib":
                    v += " [%s]" % fmt(s)
                out.append(v)
            name = "**%s**" % impl if impl.startswith("libintern") else impl
            print("| %s | %s | %s |" % (title if first else "", name, " | ".join(out)))
            first = False
    print()
    for status, note in targets:
        print("- **%s** %s" % (status, note))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
