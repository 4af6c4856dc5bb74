#!/usr/bin/env python3
"""Generate libintern's man pages from include/intern.h.

    gen-man.py --list HEADER...                   the pages it would write
    gen-man.py --version V --outdir DIR HEADER... write them

The header is the one source: its opening comment becomes intern(7), and
each section between two banner comments

    /* ------------------------------------------------------------------
     * Title
     * ---------------------------------------------------------------- */

that declares at least one INTERN_EXPORT function becomes one section-3
page, named after the section's first function, with a one-line
`.so man3/<page>.3` page for every other function of the section.  Inside a
section, a comment that starts a line and is followed directly by code
(no blank line) documents that code; a comment followed by a blank line is
prose of the section.  Nothing here names a function: a function added to
the header, in a section of its own or an existing one, gets its page at
the next build.
"""
import argparse
import os
import re
import sys

BANNER = re.compile(r"^/\* -{8,}\n \* (?P<title>[^\n]+)\n \* -{8,} \*/\n", re.M)
EXPORTED = re.compile(r"\bINTERN_EXPORT\b[^;{}]*?\b(intern_\w+)\s*\(", re.S)
MANUAL = "libintern Manual"


class Item:
    """A comment and the code right after it (either may be empty)."""

    def __init__(self, comment):
        self.comment = comment
        self.code = []

    def functions(self):
        return EXPORTED.findall("\n".join(self.code))


class Section:
    def __init__(self, title, items):
        self.title = title
        self.items = items

    def functions(self):
        return [f for item in self.items for f in item.functions()]


def comment_text(lines):
    """The text of a /* ... */ comment, without its frame, dedented."""
    text = "\n".join(lines).strip()
    text = text[2:-2] if text.endswith("*/") else text[2:]
    out = []
    for line in text.split("\n"):
        line = line.rstrip()
        stripped = line.lstrip()
        if stripped.startswith("*") and not stripped.startswith("*/"):
            line = stripped[1:]
        out.append(line)
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    indent = min((len(l) - len(l.lstrip()) for l in out if l.strip()), default=0)
    return [l[indent:] for l in out]


def parse_items(body):
    """Split a section's text into Items (see the module comment)."""
    items, item, depth, cont = [], None, 0, False
    lines = body.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        starts_comment = line.lstrip().startswith("/*")
        if depth == 0 and not cont and starts_comment:
            block = [line]
            while "*/" not in block[-1] and i + 1 < len(lines):
                i += 1
                block.append(lines[i])
            item = Item(comment_text(block))
            items.append(item)
        elif depth == 0 and not cont and not line.strip():
            item = None
        else:
            if item is None:
                item = Item([])
                items.append(item)
            item.code.append(line.rstrip())
            code = re.sub(r"/\*.*?\*/", "", line)
            depth += code.count("{") - code.count("}")
            cont = line.rstrip().endswith("\\")
        i += 1
    return items


def parse_header(text):
    """The opening comment's lines, and the sections in order."""
    end = text.index("*/") + 2
    intro = comment_text(text[:end].split("\n"))
    # Code between #ifdef __cplusplus ... and the end is not documentation.
    marks = list(BANNER.finditer(text))
    sections = []
    for k, m in enumerate(marks):
        stop = marks[k + 1].start() if k + 1 < len(marks) else text.find("#ifdef __cplusplus", m.end())
        body = text[m.end():stop if stop > 0 else len(text)]
        sections.append(Section(m.group("title").strip(), parse_items(body)))
    return intro, sections


# ---------------------------------------------------------------------------
# roff output
# ---------------------------------------------------------------------------

def esc(s):
    """Text safe in roff: backslashes, and dots or quotes at a line start."""
    s = s.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + s if s[:1] in (".", "'") else s


def inline(s):
    """Escaped running text, with function names in bold.  The header's
    "conventions above" are in intern(7) on a page."""
    s = s.replace("the conventions above", "the conventions in intern(7)")
    s = esc(s.replace("used by every comment below", "used by every page"))
    return re.sub(r"\b(intern_\w+)(\(\))", r"\\fB\1\\fP\2", s)


def paragraphs(lines):
    """roff for comment text: flowed paragraphs at the paragraph's own
    indentation, and runs of deeper-indented lines kept as they are."""
    out, para = [], []

    def flush():
        if not para:
            return
        base = min(len(l) - len(l.lstrip()) for l in para)
        out.append(".PP")
        pre = False
        for l in para:
            deeper = len(l) - len(l.lstrip()) > base
            if deeper and not pre:
                out.extend([".RS 2", ".nf"])
            elif not deeper and pre:
                out.extend([".fi", ".RE"])
            pre = deeper
            out.append(inline(l[base:] if deeper else l.strip()))
        if pre:
            out.extend([".fi", ".RE"])
        para.clear()

    for l in lines:
        if l.strip():
            para.append(l.expandtabs(8))
        else:
            flush()
    flush()
    return out


def code_block(lines):
    """Declarations as the reader writes them: without INTERN_EXPORT."""
    out = [".PP", ".nf"]
    for l in lines:
        l = re.sub(r"^INTERN_EXPORT\s*", "", l)
        if l.strip():
            out.append(esc(l.expandtabs(8)))
    return out + [".fi"]


def th(name, section, version):
    return ['.\\" Generated from include/intern.h by docs/man/gen-man.py; do not edit.',
            '.TH "%s" "%s" "" "libintern %s" "%s"' % (name.upper(), section, version, MANUAL),
            ".nh"]


def see_also(refs):
    refs = sorted(set(refs), key=lambda r: (r[1], r[0]))
    return [".SH SEE ALSO", ",\n".join("\\fB%s\\fP(%s)" % (esc(n), s) for n, s in refs)]


def item_title(item):
    """A subsection heading for an item: its functions, or the type or macro
    it defines, or nothing (prose)."""
    funcs = item.functions()
    if funcs:
        return ", ".join(f + "()" for f in funcs)
    code = "\n".join(item.code)
    m = re.search(r"^\s*(struct|enum)\s+(\w+)\s*\{", code, re.M)
    if m:
        return m.group(1) + " " + m.group(2)
    names = re.findall(r"^#define\s+(\w+)", code, re.M)
    return ", ".join(names)


def group_page(sec, pages, version):
    funcs = sec.functions()
    out = th(funcs[0], 3, version)
    out += [".SH NAME", esc(", ".join(funcs)) + " \\- " + esc(sec.title.lower()),
            ".SH LIBRARY",
            "libintern (\\fIlibintern\\fP, \\fI\\-lintern\\fP; pkg\\-config \\fBlibintern\\fP; "
            "CMake \\fBlibintern::libintern\\fP)",
            ".SH SYNOPSIS", ".nf", ".B #include <intern.h>", ".fi"]
    for item in sec.items:
        if item.code:
            out += code_block(item.code)
    out += [".SH DESCRIPTION"]
    for item in sec.items:
        title = item_title(item)
        if title and item.comment:
            out += [".SS " + esc(title)]
        out += paragraphs(item.comment)
    refs = [("intern", 7)] + [(p, 3) for p in pages if p != funcs[0]]
    return "\n".join(out + see_also(refs)) + "\n"


def overview_page(intro, sections, version):
    out = th("intern", 7, version)
    body = [l for l in intro if not l.startswith("Copyright")]
    out += [".SH NAME", "intern \\- libintern, concurrent string interning for C",
            ".SH SYNOPSIS", ".nf", ".B #include <intern.h>", ".PP",
            "cc app.c $(pkg\\-config \\-\\-cflags \\-\\-libs libintern)",
            "find_package(libintern) and target_link_libraries(app libintern::libintern)  (CMake)",
            "dependency('libintern')  (meson, installed or as a subproject)",
            ".fi", ".SH DESCRIPTION"]
    out += paragraphs(body)
    out += [".SH FUNCTIONS",
            "Each page documents one section of the header; every function has a name "
            "that \\fBman\\fP finds.",
            # Left-adjusted: a list of long names cannot be justified.
            ".ad l"]
    for sec in sections:
        funcs = sec.functions()
        if not funcs:
            continue
        out += [".TP", "\\fB%s\\fP(3): %s" % (esc(funcs[0]), esc(sec.title)),
                ", ".join("\\fB%s\\fP()" % esc(f) for f in funcs)]
    out += [".ad b", ".SH VERSIONS",
            "This page describes libintern %s.  "
            "\\fBintern_version\\fP() tells the version of the library loaded at run time."
            % esc(version) if any("intern_version" in s.functions() for s in sections)
            else "This page describes libintern %s." % esc(version)]
    refs = [(s.functions()[0], 3) for s in sections if s.functions()]
    return "\n".join(out + see_also(refs)) + "\n"


def plan(sections):
    """[(file name, content kind, argument)] in a fixed order."""
    files, pages = [], [s.functions()[0] for s in sections if s.functions()]
    for sec in sections:
        funcs = sec.functions()
        if not funcs:
            continue
        files.append((funcs[0] + ".3", "page", sec))
        files += [(f + ".3", "link", funcs[0]) for f in funcs[1:]]
    files.append(("intern.7", "overview", None))
    return files, pages


def main(argv):
    ap = argparse.ArgumentParser(description="Generate libintern's man pages from intern.h.")
    ap.add_argument("headers", nargs="+", metavar="HEADER",
                    help="intern.h first (its opening comment is intern(7)), then any other")
    ap.add_argument("--list", action="store_true", help="print the file names, write nothing")
    ap.add_argument("--outdir", help="where to write the pages")
    ap.add_argument("--version", default="", help="the library version for the page footers")
    args = ap.parse_args(argv)
    if not args.list and not args.outdir:
        ap.error("give --outdir DIR or --list")

    intro, sections = None, []
    for path in args.headers:
        with open(path, encoding="utf-8") as f:
            opening, more = parse_header(f.read())
        intro = intro or opening
        sections += more
    files, pages = plan(sections)
    names = [f[0] for f in files]
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        sys.exit("gen-man: declared twice: " + ", ".join(sorted(dups)))
    if args.list:
        print("\n".join(names))
        return 0
    for name, kind, arg in files:
        if kind == "page":
            text = group_page(arg, pages, args.version)
        elif kind == "link":
            text = ".so man3/%s.3\n" % arg
        else:
            text = overview_page(intro, sections, args.version)
        with open(os.path.join(args.outdir, name), "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
