#!/usr/bin/env python3
"""intern-gen-ids: libintern's build-time generator of application singletons.

Scans C sources for INTERN_ID(name) and INTERN_STR(name, "text") and emits a
header and a C file: one const, IMMORTAL_STATIC string object per content,
in read-only memory, and a struct intern_static_table that lists them for
intern_interp_add_statics().  The header defines the two macros, so a source
that includes it reads INTERN_ID(content_length) as a constant pointer.
CPython does the same for _Py_ID / _Py_STR (Tools/build/
generate_global_objects.py).

    intern-gen-ids --output-c ids.c --output-h ids.h [--prefix P] SOURCE...

Rules (docs/identifiers.md, "The generator's rules"), each an error reported as
FILE:LINE:COL with exit status 1, after every source has been read:

  - INTERN_ID takes one C identifier ([A-Za-z_][A-Za-z0-9_]*); its content
    is the identifier.  C keywords are fine: INTERN_ID(class) is "class".
  - INTERN_STR takes a C identifier and a string literal, or adjacent
    literals ("a" "b"), plain or u8; escapes are decoded as a C compiler
    with a UTF-8 execution character set does.  Anything else (a macro, an
    expression, a wide literal) is an error: the generator cannot evaluate it.
  - One object per content: one INTERN_STR name with two texts, two
    INTERN_STR names with one text, and an INTERN_STR whose text equals an
    INTERN_ID's name are errors (use the one name everywhere).  INTERN_ID
    and INTERN_STR names are separate namespaces, as in CPython.
  - The built-in singletons stay disjoint from the generated sets: an empty
    or one-byte content is an error (use intern_empty() / intern_latin1()),
    and so is the decimal text of an integer that some build of libintern
    may hold as a small-integer singleton, |n| <= 1000000 (use intern_int()).
  - A text with a trigraph (??! ...) is an error: its bytes depend on the
    compiler's mode.
  - An unterminated use (no closing parenthesis, an unterminated literal)
    is an error.

The scan is lexical, like CPython's: comments and literals are skipped,
preprocessor conditionals are not evaluated (a use under #if 0 counts),
a use inside a #define whose arguments are the macro's own parameters is a
forwarding macro and is skipped, and the #define of INTERN_ID/INTERN_STR
itself (the generated header) is not a use.  The output is deterministic:
sorted by name, and independent of the order of the sources.
"""

import argparse
import os
import re
import sys
import tempfile

MACROS = ("INTERN_ID", "INTERN_STR")
IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# The canonical decimal text of an integer ("200", "-5"; no '+', no leading
# zero, no "-0"), and the widest range meson_options.txt lets libintern be
# built with for its small-integer singletons (small_int_min/max): a table
# must suit every build of the library.
SMALL_INT_RE = re.compile(rb"(0|-?[1-9][0-9]{0,6})\Z")
SMALL_INT_WIDEST = 1000000


class Error(Exception):
    """A diagnostic at a source position."""

    def __init__(self, pos, msg):
        super().__init__(msg)
        self.pos = pos
        self.msg = msg


class Pos:
    __slots__ = ("path", "line", "col")

    def __init__(self, path, line, col):
        self.path, self.line, self.col = path, line, col

    def __str__(self):
        return f"{self.path}:{self.line}:{self.col}"


# ---------------------------------------------------------------------------
# Lexing
# ---------------------------------------------------------------------------

class Token:
    __slots__ = ("kind", "text", "pos", "bol")

    def __init__(self, kind, text, pos, bol):
        self.kind = kind  # 'ident', 'number', 'string', 'char', 'punct', 'newline', 'bad'
        self.text = text
        self.pos = pos
        self.bol = bol    # first token of its logical line


def splice(text):
    """Join backslash-newline continuations; return the logical text and,
    per character, its physical (line, col)."""
    out, lines, cols = [], [], []
    line, col, i, n = 1, 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            j = i + 1
            while j < n and text[j] in " \t":  # GCC allows spaces after '\'
                j += 1
            if j < n and text[j] == "\n":
                i, line, col = j + 1, line + 1, 1
                continue
        out.append(c)
        lines.append(line)
        cols.append(col)
        if c == "\n":
            line, col = line + 1, 1
        else:
            col += 1
        i += 1
    lines.append(line)
    cols.append(col)
    return "".join(out), lines, cols


LITERAL_PREFIXES = ("L", "u", "U", "u8")


def tokens(path, raw):
    """Yield the tokens of a C source, comments removed, newlines kept."""
    text, lines, cols = splice(raw.replace("\r\n", "\n"))
    n, i, bol = len(text), 0, True

    def pos(k):
        return Pos(path, lines[k], cols[k])

    while i < n:
        c = text[i]
        if c == "\n":
            yield Token("newline", c, pos(i), bol)
            i, bol = i + 1, True
            continue
        if c in " \t\f\v\r":
            i += 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise Error(pos(i), "unterminated comment")
            # A comment is one space, even across lines: a directive goes on.
            i = end + 2
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        start = i
        if c.isalpha() or c == "_" or c == "$" or ord(c) > 127:
            while i < n and (text[i].isalnum() or text[i] in "_$" or ord(text[i]) > 127):
                i += 1
            if not (text[start:i] in LITERAL_PREFIXES and i < n and text[i] in "\"'"):
                yield Token("ident", text[start:i], pos(start), bol)
                bol = False
                continue
            c = text[i]  # a prefixed literal: L"..", u8"..", ...
        if c in "\"'":
            end = scan_quoted(text, i, c)
            kind = ("string" if c == '"' else "char") if end > 0 else "bad"
            i = abs(end)
            yield Token(kind, text[start:i], pos(start), bol)
            bol = False
            continue
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            i += 1
            while i < n:
                if text[i] in "eEpP" and i + 1 < n and text[i + 1] in "+-":
                    i += 2
                elif text[i].isalnum() or text[i] in "._'":
                    i += 1
                else:
                    break
            yield Token("number", text[start:i], pos(start), bol)
            bol = False
            continue
        yield Token("punct", c, pos(i), bol)
        i, bol = i + 1, False


def scan_quoted(text, i, quote):
    """End index of the literal opening at text[i], or minus the index of
    the end of line if the literal is unterminated there."""
    n = len(text)
    j = i + 1
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == quote:
            return j + 1
        if c == "\n":
            return -j
        j += 1
    return -n


# ---------------------------------------------------------------------------
# String literals
# ---------------------------------------------------------------------------

SIMPLE_ESCAPES = {
    "n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11,
    "\\": 92, "'": 39, '"': 34, "?": 63,
}


def decode_literal(tok):
    """The bytes of one string-literal token, as a C compiler with a UTF-8
    execution character set encodes them."""
    text = tok.text
    if text.startswith("u8"):
        text = text[2:]
    elif text[0] in "LuU":
        raise Error(tok.pos, f"wide string literal {tok.text} in INTERN_STR: "
                    "only plain (or u8) literals name byte strings")
    body = text[1:-1]
    tri = re.search(r"\?\?[=(/)'<!>-]", body)
    if tri:
        # Strict ISO modes (-std=c11) replace trigraphs, GNU modes do not:
        # the bytes would depend on how the application is compiled.
        raise Error(tok.pos, f"trigraph {tri.group(0)} in INTERN_STR text means "
                    "different bytes in different compiler modes: write \\?\\? instead")
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if i + 1 >= n:
            raise Error(tok.pos, "string literal ends in a backslash")
        e = body[i + 1]
        if e in SIMPLE_ESCAPES:
            out.append(SIMPLE_ESCAPES[e])
            i += 2
        elif e in "01234567":
            j = i + 1
            while j < n and j < i + 4 and body[j] in "01234567":
                j += 1
            v = int(body[i + 1:j], 8)
            if v > 0xFF:
                raise Error(tok.pos, f"octal escape \\{body[i + 1:j]} is out of range for a byte")
            out.append(v)
            i = j
        elif e == "x":
            j = i + 2
            while j < n and body[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == i + 2:
                raise Error(tok.pos, "\\x used with no following hex digits")
            v = int(body[i + 2:j], 16)
            if v > 0xFF:
                raise Error(tok.pos, f"hex escape \\x{body[i + 2:j]} is out of range for a byte")
            out.append(v)
            i = j
        elif e in "uU":
            width = 4 if e == "u" else 8
            digits = body[i + 2:i + 2 + width]
            if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise Error(tok.pos, f"incomplete universal character name \\{e}{digits}")
            v = int(digits, 16)
            if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF or (v < 0xA0 and v not in (0x24, 0x40, 0x60)):
                raise Error(tok.pos, f"\\{e}{digits} is not a valid universal character name")
            out += chr(v).encode("utf-8")
            i += 2 + width
        else:
            raise Error(tok.pos, f"unknown escape sequence \\{e}")
    return bytes(out)


def c_literal(data):
    """A C string literal for `data`: printable ASCII as is, the rest as
    three-digit octal (so a following digit cannot join it), '?' escaped
    against trigraphs.  Long strings are split into adjacent literals."""
    parts, cur = [], []
    for b in data:
        ch = chr(b)
        if ch in '"\\?':
            cur.append("\\" + ch)
        elif 0x20 <= b < 0x7F:
            cur.append(ch)
        else:
            cur.append("\\%03o" % b)
        if len(cur) >= 64:
            parts.append('"' + "".join(cur) + '"')
            cur = []
    if cur or not parts:
        parts.append('"' + "".join(cur) + '"')
    return "\n\t\t  ".join(parts)


# ---------------------------------------------------------------------------
# Scanning for uses
# ---------------------------------------------------------------------------

class Use:
    __slots__ = ("macro", "name", "data", "pos")

    def __init__(self, macro, name, data, pos):
        self.macro, self.name, self.data, self.pos = macro, name, data, pos


def show(toks):
    return " ".join(t.text for t in toks) or "nothing"


def parse_use(macro_tok, args):
    """Check one use's arguments and return a Use."""
    macro = macro_tok.text
    want = 1 if macro == "INTERN_ID" else 2
    if len(args) == 1 and not args[0]:
        args = []
    if len(args) != want:
        form = "INTERN_ID(name)" if want == 1 else 'INTERN_STR(name, "text")'
        raise Error(macro_tok.pos, f"{macro} takes {want} argument{'s' * (want > 1)}, "
                    f"got {len(args)}: write {form}")
    name_toks = args[0]
    name = show(name_toks)
    if len(name_toks) != 1 or not IDENT_RE.match(name_toks[0].text):
        raise Error(name_toks[0].pos if name_toks else macro_tok.pos,
                    f"{macro} name '{name}' is not a C identifier "
                    "([A-Za-z_][A-Za-z0-9_]*)")
    if macro == "INTERN_ID":
        data = name.encode("ascii")
    else:
        text_toks = args[1]
        if not text_toks:
            raise Error(macro_tok.pos, f"INTERN_STR({name}, ...) has no text: "
                        "write a string literal")
        bad = [t for t in text_toks if t.kind != "string"]
        if bad:
            raise Error(bad[0].pos, f"INTERN_STR({name}, ...) text must be a string literal "
                        f"(or adjacent literals), not '{show(text_toks)}': the generator "
                        "cannot evaluate macros or expressions")
        data = b"".join(decode_literal(t) for t in text_toks)
    if macro == "INTERN_STR" and SMALL_INT_RE.match(data) and \
            abs(int(data)) <= SMALL_INT_WIDEST:
        raise Error(macro_tok.pos, f"INTERN_STR({name}, {show(args[1])}) is the decimal text "
                    "of an integer, which libintern may hold as a built-in small-integer "
                    "singleton: use intern_int()")
    if len(data) <= 1:
        if macro == "INTERN_ID":
            what = f"INTERN_ID({name}) is one byte"
        else:
            what = f"INTERN_STR({name}, {show(args[1])}) is {'empty' if not data else 'one byte'}"
        builtin = "intern_empty()" if not data else "intern_latin1(%s)" % c_char(data[0])
        raise Error(macro_tok.pos, f"{what}: use the built-in singleton {builtin}")
    return Use(macro, name, data, macro_tok.pos)


def c_char(b):
    ch = chr(b)
    if ch in "'\\":
        return "'\\" + ch + "'"
    if 0x20 <= b < 0x7F:
        return "'" + ch + "'"
    return "'\\x%02x'" % b


def scan(path, raw, errors):
    """Append the uses in one source to a list and its errors to `errors`."""
    uses = []
    try:
        toks = list(tokens(path, raw))
    except Error as e:
        errors.append(e)
        return uses
    n = len(toks)
    in_directive = False
    params = set()      # parameters of the #define being read
    skip_name = -1      # index of the macro name a #define defines
    i = 0
    while i < n:
        t = toks[i]
        if t.kind == "newline":
            in_directive, params = False, set()
            i += 1
            continue
        if t.bol and t.kind == "punct" and t.text == "#":
            in_directive = True
            if i + 2 < n and toks[i + 1].text == "define" and toks[i + 2].kind == "ident":
                skip_name = i + 2
                params = define_params(toks, i + 2)
            i += 1
            continue
        if t.kind != "ident" or t.text not in MACROS or i == skip_name:
            i += 1
            continue
        # An invocation needs '(' next; a bare name (#ifdef, defined()) is not one.
        j = i + 1
        while j < n and toks[j].kind == "newline" and not in_directive:
            j += 1
        if j >= n or toks[j].text != "(" or toks[j].kind != "punct":
            i += 1
            continue
        args, cur, depth, k = [], [], 0, j + 1
        closed = False
        while k < n:
            a = toks[k]
            if a.kind == "newline":
                if in_directive:
                    break
                k += 1
                continue
            if a.kind == "bad":
                errors.append(Error(a.pos, f"unterminated literal in {t.text}(...)"))
                break
            if a.kind == "punct" and a.text in "([{":
                depth += 1
            elif a.kind == "punct" and a.text in ")]}":
                if depth == 0 and a.text == ")":
                    closed = True
                    break
                depth -= 1
            elif a.kind == "punct" and a.text == "," and depth == 0:
                args.append(cur)
                cur = []
                k += 1
                continue
            cur.append(a)
            k += 1
        if not closed:
            if not (k < n and toks[k].kind == "bad"):
                errors.append(Error(t.pos, f"unterminated {t.text}(: no closing ')'"))
            # Resynchronize after the broken use.
            i = k + 1
            continue
        args.append(cur)
        i = k + 1
        # A forwarding macro: `#define MY_ID(n) INTERN_ID(n)`.
        if params and any(a.kind == "ident" and a.text in params for arg in args for a in arg):
            continue
        try:
            uses.append(parse_use(t, args))
        except Error as e:
            errors.append(e)
    return uses


def define_params(toks, k):
    """Parameter names of the function-like #define whose name is toks[k]."""
    name = toks[k]
    if k + 1 >= len(toks):
        return set()
    p = toks[k + 1]
    # Function-like only when '(' follows the name with no space between.
    if p.text != "(" or p.pos.line != name.pos.line or \
            p.pos.col != name.pos.col + len(name.text):
        return set()
    params = set()
    for t in toks[k + 2:]:
        if t.kind == "newline" or t.text == ")":
            break
        if t.kind == "ident":
            params.add(t.text)
    params.add("__VA_ARGS__")
    return params


# ---------------------------------------------------------------------------
# The rules across uses
# ---------------------------------------------------------------------------

def collect(uses, errors):
    """Apply the one-object-per-content rules; return (ids, strs) as
    {name: Use} maps of the first use of each name."""
    ids, strs, str_by_data = {}, {}, {}
    for u in uses:
        if u.macro == "INTERN_ID":
            ids.setdefault(u.name, u)
            continue
        first = strs.get(u.name)
        if first is not None:
            if first.data != u.data:
                errors.append(Error(u.pos, f"INTERN_STR({u.name}, ...) has a different text "
                                    f"than at {first.pos}: one name, one text"))
            continue
        other = str_by_data.get(u.data)
        if other is not None:
            errors.append(Error(u.pos, f"INTERN_STR({u.name}, ...) has the same text as "
                                f"INTERN_STR({other.name}, ...) at {other.pos}: one object "
                                f"per content, use {other.name}"))
            continue
        strs[u.name] = u
        str_by_data[u.data] = u
    for u in strs.values():
        same = ids.get(u.data.decode("latin-1"))
        if same is not None:
            errors.append(Error(u.pos, f"INTERN_STR({u.name}, ...) has the content of "
                                f"INTERN_ID({same.name}) at {same.pos}: one object per "
                                f"content, use INTERN_ID({same.name})"))
    return ids, strs


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

def entries(ids, strs):
    """(member, Use) pairs in output order."""
    out = [("id_" + name, ids[name]) for name in sorted(ids)]
    out += [("str_" + name, strs[name]) for name in sorted(strs)]
    return out


def render_h(prefix, ents, nsources):
    guard = "INTERN_GEN_" + prefix.upper() + "_H"
    lines = [
        f"/* Generated by intern-gen-ids from {nsources} source file(s): do not edit.",
        " * The application's static strings (docs/design.md, \"Application",
        " * statics\"); the build regenerates this file when a source changes. */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        "#include <intern.h>",
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        f"struct {prefix}_ids_layout {{",
    ]
    for member, u in ents:
        lines.append(f"\tstruct {{ struct intern_str head; char data[{len(u.data) + 1}]; }} "
                     f"{member};")
    if not ents:
        lines.append("\tchar none; /* no INTERN_ID or INTERN_STR in the sources */")
    lines += [
        "};",
        "",
        "/* The objects: const, IMMORTAL_STATIC, in read-only memory. */",
        f"extern const struct {prefix}_ids_layout {prefix}_ids;",
        "",
        "/* All of them, for intern_interp_add_statics(). */",
        f"extern const struct intern_static_table {prefix}_table;",
        "",
        "/* Constant pointers to the objects; the text is read by the generator. */",
        "#define INTERN_ID(name) \\",
        f"\t((struct intern_str *)&{prefix}_ids.id_##name.head)",
        "#define INTERN_STR(name, text) \\",
        f"\t((struct intern_str *)&{prefix}_ids.str_##name.head)",
        "",
        "#ifdef __cplusplus",
        "}",
        "#endif",
        "",
        f"#endif /* {guard} */",
        "",
    ]
    return "\n".join(lines)


def render_c(prefix, ents, include):
    lines = [
        "/* Generated by intern-gen-ids: do not edit. */",
        f'#include "{include}"',
        "",
        f"const struct {prefix}_ids_layout {prefix}_ids = {{",
    ]
    for member, u in ents:
        lines.append(f"\t.{member} = {{ INTERN_STATIC_HEAD_INIT({len(u.data)}u),")
        lines.append(f"\t\t  {c_literal(u.data)} }},")
    if not ents:
        lines.append("\t0,")
    lines += ["};", ""]
    if ents:
        lines.append(f"static const struct intern_str *const {prefix}_strings[{len(ents)}] = {{")
        for member, _ in ents:
            lines.append(f"\t&{prefix}_ids.{member}.head,")
        lines += ["};", ""]
        strings = f"{prefix}_strings"
    else:
        strings = "0"
    lines += [
        f"const struct intern_static_table {prefix}_table = {{",
        f"\tINTERN_STATIC_TABLE_VERSION, {len(ents)}u, {strings},",
        "};",
        "",
    ]
    return "\n".join(lines)


def write(path, text):
    """Replace `path` atomically, so a failed run leaves no half file."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".intern-gen-ids.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv):
    ap = argparse.ArgumentParser(
        prog="intern-gen-ids",
        description="Generate libintern static strings from INTERN_ID / INTERN_STR uses.")
    ap.add_argument("--output-c", required=True, metavar="FILE.c")
    ap.add_argument("--output-h", required=True, metavar="FILE.h")
    ap.add_argument("--prefix", default="intern_app",
                    help="prefix of the generated symbols: PREFIX_ids, PREFIX_table "
                         "(default: intern_app)")
    ap.add_argument("--include", metavar="NAME",
                    help="how the C file includes the header (default: its file name)")
    ap.add_argument("sources", nargs="*", metavar="SOURCE")
    args = ap.parse_args(argv)
    if not IDENT_RE.match(args.prefix):
        ap.error(f"--prefix '{args.prefix}' is not a C identifier")

    errors, uses = [], []
    for path in args.sources:
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                raw = f.read()
        except OSError as e:
            print(f"{path}: error: cannot read: {e.strerror}", file=sys.stderr)
            return 1
        uses += scan(path, raw, errors)
    ids, strs = collect(uses, errors)
    if errors:
        for e in errors:
            print(f"{e.pos}: error: {e.msg}", file=sys.stderr)
        print(f"intern-gen-ids: {len(errors)} error(s), nothing written", file=sys.stderr)
        return 1
    ents = entries(ids, strs)
    include = args.include or os.path.basename(args.output_h)
    write(args.output_h, render_h(args.prefix, ents, len(args.sources)))
    write(args.output_c, render_c(args.prefix, ents, include))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
