#!/usr/bin/env python3
"""Writes golden.json: what CPython returns for format(), str.format, %,
str(), repr() and ** over a grid of values and specs. The Go test replays
it without Python. Run from this folder: python3 gen_golden.py
"""
import json
import math
import sys


def star(v):
    """v as a Starlark expression."""
    if v is None or isinstance(v, bool):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isinf(v):
            return 'float("inf")' if v > 0 else '-float("inf")'
        if math.isnan(v):
            return 'float("nan")'
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(star(x) for x in v) + "]"
    if isinstance(v, tuple):
        return "(" + "".join(star(x) + ", " for x in v) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(star(k) + ": " + star(x) for k, x in v.items()) + "}"
    raise TypeError(v)


def outcome(fn):
    try:
        return {"want": fn()}
    except Exception as e:  # the test compares the kind and message
        return {"err": type(e).__name__ + ": " + str(e)}


INTS = [0, 1, -1, 7, 42, -42, 255, 1234, -1234567, 1234567890123, 2**70, -(2**65), True, False]
FLOATS = [0.0, -0.0, 1.0, -1.5, 0.5, 2.5, 3.14159265, -2.71828, 1e-5, 0.0001, 123456.789,
          1e16, 1e15, 9.999999e15, 1.5e300, 5e-324, 100.0, 12345678.9, 0.1 + 0.2,
          float("inf"), float("-inf"), float("nan"), 1e22, 99.995, 0.125, 1234.5]
STRS = ["", "a", "abc", "hello world", "héllo", "it's", 'say "hi"', "tab\there", "ü日本"]
NUMSPECS = ["", "d", "5", "<8", ">8", "^9", "=8", "*^9", "0>6", "+", "-", " ", "+8", "08",
            "010,", "09,", "08,", "07,", "012_", ",", "_", "x", "X", "#x", "#X", "o", "#o",
            "b", "#b", "_b", "#010x", "_x", "c", "n", "e", "E", ".2e", ".0e", "#.0e", "f",
            "F", ".2f", ".0f", "#.0f", ".10f", "10.3f", "<10.3f", "+.1f", "g", "G", ".3g",
            ".1g", "#g", "#.3g", "%", ".1%", "10.2%", ".3", ".1", "010.2f", "-^12,.2f",
            ",.2f", "_.3f", "z.1f", "z", ".2d", "s", "+c", ",x", "dd", "10.3n", "#.0", "015,.3f",
            "=+10", " 012", "x<+#12,", ".", ",_"]
STRSPECS = ["", "s", "10", "<10", ">10", "^10", "*^11", ".2", "10.2", "05", "+", "=5", "#",
            ",", "d", "x>4s", "z"]


def cases():
    out = []
    for v in INTS + FLOATS:
        for s in NUMSPECS:
            out.append({"op": "format", "value": star(v), "spec": s, **outcome(lambda: format(v, s))})
    for v in STRS:
        for s in STRSPECS:
            out.append({"op": "format", "value": star(v), "spec": s, **outcome(lambda: format(v, s))})
    for v in [None, [1, "a"], (1,), {"k": 1.5}]:
        for s in ["", ">5"]:
            out.append({"op": "format", "value": star(v), "spec": s, **outcome(lambda: format(v, s))})

    formats = [
        ("{} and {}", (1, "two"), {}),
        ("{0}{1}{0}", ("a", "b"), {}),
        ("{name}:{n:>5}", (), {"name": "x", "n": 3}),
        ("{0[1]} {0[0]}", ([10, 20],), {}),
        ("{d[key]} {d[0]}", (), {"d": {"key": "v", 0: "zero"}}),
        ("{:{w}.{p}f}", (3.14159,), {"w": 10, "p": 2}),
        ("{:{}{}}", (5, ">", 4), {}),
        ("{{literal}} {}", (1,), {}),
        ("{!r} {!s} {!a}", ("é'", "x", "é"), {}),
        ("{0!r:>10}", ("ab",), {}),
        ("{:,}", (1234567,), {}),
        ("{}", ([1, "a", None, True, 2.0, (1,), {"k": "v"}],), {}),
        ("{}", (1e16,), {}),
        ("{} {}", (1,), {}),
        ("{0} {}", (1, 2), {}),
        ("{} {0}", (1, 2), {}),
        ("{x}", (), {}),
        ("{", (), {}),
        ("}", (), {}),
        ("a}b", (), {}),
        ("{0!x}", (1,), {}),
        ("{0!r", (1,), {}),
        ("{:d}", ("s",), {}),
        ("{0[5]}", ([1],), {}),
        ("{:>{}}", ("x",), {}),
        ("{:%}", (0.25,), {}),
    ]
    for tmpl, args, kwargs in formats:
        out.append({"op": "str.format", "value": star(tmpl), "args": star(args), "kwargs": star(kwargs),
                    **outcome(lambda: tmpl.format(*args, **kwargs))})

    percents = [
        ("%d", 42), ("%5d", 42), ("%-5d|", 42), ("%05d", -42), ("%+d", 5), ("% d", 5),
        ("%.3d", 7), ("%x", 255), ("%#x", 255), ("%X", 255), ("%#X", 255), ("%o", 8),
        ("%#o", 8), ("%e", 12345.678), ("%.2e", 0.000123), ("%E", 1.5), ("%f", 3.14159),
        ("%.3f", 2.0 / 3), ("%10.2f|", -1.5), ("%-10.2f|", 1.5), ("%010.2f", -1.5),
        ("%g", 0.0000123), ("%g", 123456789.0), ("%.3g", 1234.5), ("%#g", 1.0), ("%G", 1e-10),
        ("%s", "text"), ("%10s|", "ab"), ("%-10s|", "ab"), ("%.2s", "abcdef"), ("%r", "it's"),
        ("%r", [1, "a"]), ("%s", [1, "a"]), ("%s", None), ("%s", True), ("%d", True),
        ("%s %s", ("a", "b")), ("%s", ("a",)), ("%s and %r", ("x", "y")), ("100%%", ()),
        ("%(name)s is %(age)d", {"name": "Ann", "age": 30}), ("%(x)05.1f", {"x": 2.25}),
        ("%*d|", (5, 42)), ("%-*d|", (5, 42)), ("%.*f", (2, 3.14159)), ("%*d|", (-5, 42)),
        ("%c", 65), ("%c", "z"), ("%d", 3.99), ("%d", -3.99), ("%i", 7), ("%u", 7),
        ("%s", 1.0), ("%s", 1e16), ("%r", 0.1), ("%a", "é"), ("%5.1f%%", 99.5),
        ("%d", "x"), ("%x", 1.5), ("%f", "x"), ("%s %s", ("a",)), ("%s", ("a", "b")),
        ("%(x)s", 1), ("%z", 1), ("%", 1), ("%d %d", [1, 2]), ("%s", {"k": 1}),
        ("%e", float("inf")), ("%f", float("nan")), ("%d", float("inf")), ("%5s|%-5s|", ("ab", "cd")),
    ]
    for tmpl, args in percents:
        out.append({"op": "percent", "value": star(tmpl), "args": star(args),
                    **outcome(lambda: tmpl % args)})

    for v in INTS + FLOATS + STRS + [None, [1, "x", [2.5]], ("a",), (), {"a": [1]}, {}]:
        out.append({"op": "str", "value": star(v), "want": str(v)})
        out.append({"op": "repr", "value": star(v), "want": repr(v)})

    pows = [(2, 10), (2, 0), (0, 0), (-2, 3), (2, -1), (2, -2), (10, 20), (3, 100), (2.0, 3),
            (2, 0.5), (4, 0.5), (-8, 2), (1.5, 2), (0, -1), (0.0, -1.0), (10.0, 400),
            (True, 2), (2, True), (0, 5), (-2, 63), (2, 63), (-2, 64), (float("inf"), -1),
            ("a", 2), (2, None)]
    for x, y in pows:
        out.append({"op": "pow", "value": star(x), "args": star(y), **outcome(lambda: repr(x ** y))})
    return out


if __name__ == "__main__":
    with open("golden.json", "w") as f:
        f.write('{"python": %s, "cases": [\n' % json.dumps(sys.version.split()[0]))
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases()))
        f.write("\n]}\n")
