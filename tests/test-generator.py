#!/usr/bin/env python3
"""The identifier generator (lib/intern-gen-ids.py): its rules and errors.

    test-generator.py GENERATOR INCLUDE_DIR [-- CC...]

Runs the generator on sample sources written to a temporary folder: the
good cases must succeed with the expected objects (and, given a C compiler,
compile as strict C11), the bad ones must fail with exit status 1, the
expected message at the expected FILE:LINE:COL, and write nothing.  Output
is TAP, one test per case, for meson.
"""

import os
import re
import subprocess
import sys
import tempfile

GEN, INCLUDE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
CC = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []

results = []


def case(fn):
    results.append(fn)
    return fn


def run(tmp, files, *extra, sources=None):
    """Write `files` ({name: text}) into tmp and run the generator on them."""
    for name, text in files.items():
        with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
            f.write(text)
    out_c, out_h = os.path.join(tmp, "ids.c"), os.path.join(tmp, "ids.h")
    for p in (out_c, out_h):
        if os.path.exists(p):
            os.unlink(p)
    srcs = sources if sources is not None else list(files)
    p = subprocess.run([sys.executable, GEN, "--output-c", "ids.c", "--output-h", "ids.h",
                        *extra, *srcs], cwd=tmp, capture_output=True, text=True)
    c = open(out_c).read() if os.path.exists(out_c) else None
    h = open(out_h).read() if os.path.exists(out_h) else None
    return p, c, h


def members(h):
    return re.findall(r"char data\[(\d+)\]; \} (\w+);", h)


def compile_ok(tmp, prefix="intern_app", extra_src=""):
    """Compile the outputs, plus a user of the macros, as strict C11."""
    if not CC:
        return
    with open(os.path.join(tmp, "user.c"), "w") as f:
        f.write('#include "ids.h"\n' + extra_src +
                f"const struct intern_static_table *user_table(void);\n"
                f"const struct intern_static_table *user_table(void) "
                f"{{ return &{prefix}_table; }}\n")
    for src in ("ids.c", "user.c"):
        p = subprocess.run([*CC, "-std=c11", "-pedantic", "-Wall", "-Wextra", "-Werror",
                            "-I", INCLUDE, "-I", tmp, "-c", "-o", os.devnull,
                            os.path.join(tmp, src)], capture_output=True, text=True)
        assert p.returncode == 0, f"{src} does not compile:\n{p.stderr}"


def expect_error(files, *messages, sources=None):
    """The generator fails, prints each `messages` regex, writes nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        p, c, h = run(tmp, files, sources=sources)
        assert p.returncode == 1, f"exit status {p.returncode}, stderr:\n{p.stderr}"
        for m in messages:
            assert re.search(m, p.stderr, re.M), f"no /{m}/ in:\n{p.stderr}"
        assert c is None and h is None, "outputs written despite errors"


# ---------------------------------------------------------------------------
# Good inputs
# ---------------------------------------------------------------------------

GOOD_A = r'''#include "ids.h"
/* INTERN_ID(in_a_comment) is not a use; // neither is
 * INTERN_STR(commented, "x") */
// INTERN_ID(line_comment)
#define MY_ID(n) INTERN_ID(n)          /* forwarding: not a use */
#define MY_STR(n, t) INTERN_STR(n, t)  /* forwarding: not a use */
#define CT INTERN_ID(content_type)     /* a use inside a #define */
#ifdef INTERN_ID
#endif
static const char *quoted = "INTERN_ID(in_a_string)";
static const char apostrophe = '"';
int a(void);
int a(void)
{
	return INTERN_ID(content_length) != INTERN_STR(empty_json, "{}") &&
	       INTERN_ID(class) != INTERN_ID(if) &&
	       INTERN_STR (split,
	                   "over "
	                   "lines") != 0 && quoted && apostrophe &&
	       INTERN_STR(esc, "\t\x01\0z\101\u00e9\?") != 0;
}
'''

GOOD_B = r'''#include "ids.h"
int b(void);
int b(void)
{
	/* The same uses again, in another file: one object each. */
	return INTERN_ID(content_length) != INTERN_STR(empty_json, "{}") &&
	       INTERN_STR(long_text, "0123456789012345678901234567890123456789"
	                             "0123456789012345678901234567890123456789");
}
'''


@case
def good_two_files():
    with tempfile.TemporaryDirectory() as tmp:
        p, c, h = run(tmp, {"a.c": GOOD_A, "b.c": GOOD_B})
        assert p.returncode == 0, p.stderr
        got = members(h)
        want = [("6", "id_class"), ("15", "id_content_length"), ("13", "id_content_type"),
                ("3", "id_if"), ("3", "str_empty_json"), ("9", "str_esc"),
                ("81", "str_long_text"), ("11", "str_split")]
        assert got == want, got
        assert "INTERN_STATIC_TABLE_VERSION, 8u, intern_app_strings" in c, c
        # Escapes decoded as a C compiler does, re-encoded as octal.
        assert r'"\011\001\000zA\303\251\?"' in c, c
        assert '"over lines"' in c, c
        compile_ok(tmp)


@case
def good_deterministic():
    with tempfile.TemporaryDirectory() as tmp:
        _, c1, h1 = run(tmp, {"a.c": GOOD_A, "b.c": GOOD_B})
        _, c2, h2 = run(tmp, {}, sources=["b.c", "a.c", "a.c"])
        assert c1 and h1
        assert (c1, h1.replace("2 source", "3 source")) == (c2, h2), "output depends on the order of the sources"


@case
def good_header_is_not_a_use():
    # The generated header among the sources (a glob of *.[ch]): its
    # #define INTERN_ID(name) is no use of an identifier `name`.
    with tempfile.TemporaryDirectory() as tmp:
        _, c1, h1 = run(tmp, {"a.c": GOOD_A})
        os.rename(os.path.join(tmp, "ids.h"), os.path.join(tmp, "old-ids.h"))
        p, c2, h2 = run(tmp, {}, sources=["a.c", "old-ids.h"])
        assert p.returncode == 0, p.stderr
        assert (c1, h1.replace("1 source", "2 source")) == (c2, h2)


@case
def good_empty():
    with tempfile.TemporaryDirectory() as tmp:
        p, c, h = run(tmp, {"none.c": "int nothing_here;\n"})
        assert p.returncode == 0, p.stderr
        assert "INTERN_STATIC_TABLE_VERSION, 0u, 0" in c, c
        compile_ok(tmp)


@case
def good_prefix():
    with tempfile.TemporaryDirectory() as tmp:
        p, c, h = run(tmp, {"a.c": "INTERN_ID(abc)\n"}, "--prefix", "my_app")
        assert p.returncode == 0, p.stderr
        assert "extern const struct intern_static_table my_app_table;" in h, h
        assert "&my_app_ids.id_##name.head" in h, h
        compile_ok(tmp, "my_app",
                   "struct intern_str *user_abc(void);\n"
                   "struct intern_str *user_abc(void) { return INTERN_ID(abc); }\n")


@case
def bad_prefix():
    with tempfile.TemporaryDirectory() as tmp:
        p, c, h = run(tmp, {"a.c": "INTERN_ID(abc)\n"}, "--prefix", "my-app")
        assert p.returncode == 2 and "not a C identifier" in p.stderr, p.stderr
        assert c is None and h is None


# ---------------------------------------------------------------------------
# Malformed uses
# ---------------------------------------------------------------------------

@case
def bad_identifier():
    expect_error({"bad.c": "int x;\n  x = INTERN_ID(3abc);\n"},
                 r"^bad\.c:2:17: error: INTERN_ID name '3abc' is not a C identifier")


@case
def bad_identifier_two_tokens():
    expect_error({"bad.c": "INTERN_ID(foo bar)\n"},
                 r"^bad\.c:1:11: error: INTERN_ID name 'foo bar' is not a C identifier")


@case
def bad_identifier_string():
    expect_error({"bad.c": 'INTERN_ID("foo")\n'},
                 r"^bad\.c:1:11: error: INTERN_ID name '\"foo\"' is not a C identifier")


@case
def bad_identifier_non_ascii():
    expect_error({"bad.c": "\nINTERN_ID(caf\u00e9)\n"},
                 r"^bad\.c:2:11: error: INTERN_ID name 'caf\u00e9' is not a C identifier")


@case
def bad_str_name():
    expect_error({"bad.c": 'INTERN_STR(a.b, "text")\n'},
                 r"^bad\.c:1:12: error: INTERN_STR name 'a \. b' is not a C identifier")


@case
def bad_argument_counts():
    expect_error({"bad.c": 'INTERN_ID()\nINTERN_ID(a, b)\nINTERN_STR(x)\nINTERN_STR(x, )\n'},
                 r"^bad\.c:1:1: error: INTERN_ID takes 1 argument, got 0",
                 r"^bad\.c:2:1: error: INTERN_ID takes 1 argument, got 2",
                 r"^bad\.c:3:1: error: INTERN_STR takes 2 arguments, got 1",
                 r"^bad\.c:4:1: error: INTERN_STR\(x, \.\.\.\) has no text",
                 r"^intern-gen-ids: 4 error\(s\), nothing written")


@case
def bad_text_not_literal():
    expect_error({"bad.c": '#define TEXT "abc"\nINTERN_STR(x, TEXT)\n'},
                 r"^bad\.c:2:15: error: INTERN_STR\(x, \.\.\.\) text must be a string "
                 r"literal .*not 'TEXT'")


@case
def bad_text_literal_and_macro():
    expect_error({"bad.c": 'INTERN_STR(x, "abc" SUFFIX)\n'},
                 r"^bad\.c:1:21: error: INTERN_STR\(x, \.\.\.\) text must be a string literal")


@case
def bad_text_wide():
    expect_error({"bad.c": 'INTERN_STR(x, L"abc")\n'},
                 r"^bad\.c:1:15: error: wide string literal L\"abc\"")


@case
def bad_text_escape():
    expect_error({"bad.c": 'INTERN_STR(x, "a\\qb")\nINTERN_STR(y, "\\x100")\n'},
                 r"^bad\.c:1:15: error: unknown escape sequence \\q",
                 r"^bad\.c:2:15: error: hex escape \\x100 is out of range")


@case
def bad_text_trigraph():
    expect_error({"bad.c": 'INTERN_STR(x, "what??!")\n'},
                 r"^bad\.c:1:15: error: trigraph \?\?! in INTERN_STR text")


@case
def bad_unterminated_use():
    expect_error({"bad.c": "int a;\nint b = INTERN_ID(foo;\n"},
                 r"^bad\.c:2:9: error: unterminated INTERN_ID\(: no closing '\)'")


@case
def bad_unterminated_in_directive():
    # A #define ends at its line: the use cannot continue on the next one.
    expect_error({"bad.c": "#define X INTERN_ID(foo\n)\n"},
                 r"^bad\.c:1:11: error: unterminated INTERN_ID\(")


@case
def bad_unterminated_literal():
    expect_error({"bad.c": 'INTERN_STR(x, "abc\n)\n'},
                 r"^bad\.c:1:15: error: unterminated literal in INTERN_STR")


@case
def bad_unterminated_comment():
    expect_error({"bad.c": "INTERN_ID(ok)\n/* never closed\n"},
                 r"^bad\.c:2:1: error: unterminated comment")


@case
def bad_missing_file():
    with tempfile.TemporaryDirectory() as tmp:
        p, c, h = run(tmp, {}, sources=["missing.c"])
        assert p.returncode == 1 and "missing.c: error: cannot read" in p.stderr, p.stderr


# ---------------------------------------------------------------------------
# The rules across uses
# ---------------------------------------------------------------------------

@case
def rule_one_text_per_name():
    expect_error({"a.c": 'INTERN_STR(greeting, "hello")\n',
                  "b.c": '\n\nINTERN_STR(greeting, "hullo")\n'},
                 r"^b\.c:3:1: error: INTERN_STR\(greeting, \.\.\.\) has a different text "
                 r"than at a\.c:1:1")


@case
def rule_one_name_per_text():
    expect_error({"a.c": 'INTERN_STR(greeting, "hello")\nINTERN_STR(salute, "hel" "lo")\n'},
                 r"^a\.c:2:1: error: INTERN_STR\(salute, \.\.\.\) has the same text as "
                 r"INTERN_STR\(greeting, \.\.\.\) at a\.c:1:1")


@case
def rule_id_and_str_disjoint():
    expect_error({"a.c": "INTERN_ID(hello)\n", "b.c": 'x = INTERN_STR(hi, "hello");\n'},
                 r"^b\.c:1:5: error: INTERN_STR\(hi, \.\.\.\) has the content of "
                 r"INTERN_ID\(hello\) at a\.c:1:1: one object per content")


@case
def rule_names_are_separate_namespaces():
    # INTERN_ID(x_y) is "x_y"; INTERN_STR(x_y, ...) names other bytes.
    with tempfile.TemporaryDirectory() as tmp:
        p, c, h = run(tmp, {"a.c": 'INTERN_ID(x_y)\nINTERN_STR(x_y, "other")\n'})
        assert p.returncode == 0, p.stderr
        assert members(h) == [("4", "id_x_y"), ("6", "str_x_y")], members(h)


@case
def rule_singletons_disjoint():
    expect_error({"a.c": 'INTERN_ID(x)\nINTERN_STR(one, "z")\nINTERN_STR(none, "")\n'
                         'INTERN_STR(nl, "\\n")\nINTERN_STR(nul, "\\0")\n'},
                 r"^a\.c:1:1: error: INTERN_ID\(x\) is one byte: use the built-in "
                 r"singleton intern_latin1\('x'\)",
                 r"^a\.c:2:1: error: INTERN_STR\(one, \"z\"\) is one byte: .*"
                 r"intern_latin1\('z'\)",
                 r"^a\.c:3:1: error: INTERN_STR\(none, \"\"\) is empty: .*intern_empty\(\)",
                 r"^a\.c:4:1: error: .*is one byte: .*intern_latin1\('\\x0a'\)",
                 r"^a\.c:5:1: error: .*is one byte: .*intern_latin1\('\\x00'\)")


@case
def rule_small_integers_disjoint():
    # Some build of libintern holds these as small-integer singletons.
    expect_error({"a.c": 'INTERN_STR(ok, "200")\nINTERN_STR(neg, "-5")\n'
                         'INTERN_STR(big, "1000000")\n'},
                 r"^a\.c:1:1: error: INTERN_STR\(ok, \"200\"\) is the decimal text of an "
                 r"integer.*use intern_int\(\)",
                 r"^a\.c:2:1: error: INTERN_STR\(neg, \"-5\"\)",
                 r"^a\.c:3:1: error: INTERN_STR\(big, \"1000000\"\)")
    # Not the canonical text of an integer in any build's range: fine.
    with tempfile.TemporaryDirectory() as tmp:
        p, c, h = run(tmp, {"a.c": 'INTERN_STR(a, "007")\nINTERN_STR(b, "-0")\n'
                                   'INTERN_STR(c, "+5")\nINTERN_STR(d, "1000001")\n'
                                   'INTERN_STR(e, "12a")\n'})
        assert p.returncode == 0, p.stderr
        assert len(members(h)) == 5, members(h)


@case
def errors_all_reported():
    # Every error in every file, not only the first.
    expect_error({"a.c": "INTERN_ID(1)\n", "b.c": "INTERN_ID(2)\n"},
                 r"^a\.c:1:11: error", r"^b\.c:1:11: error",
                 r"^intern-gen-ids: 2 error\(s\)")


def main():
    print(f"1..{len(results)}")
    failed = 0
    for n, fn in enumerate(results, 1):
        try:
            fn()
            print(f"ok {n} - {fn.__name__}")
        except Exception as e:  # a crash in one case fails that case only
            failed += 1
            print(f"not ok {n} - {fn.__name__}")
            for line in str(e).splitlines():
                print(f"# {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
