"""Writes golden.json: what CPython's random module draws for given seeds.

Run with python3 (3.11) from this directory: python3 gen_golden.py
The Go test replays each case's calls, in order, on random.Random(seed)
and expects the same results; it does not need Python.

An argument {"range": [a, b]} means range(a, b); a call's "want" is
the return value, or for shuffle the list after shuffling; "wants" lists
the results of calling it again and again.
"""
import json
import random
import sys

SEEDS = [0, 1, 42, 12345, -7, 2**32 + 5, 2**100 + 3, 3.5, -0.25, 1e20, "hello", ""]

CALLS = [
    ("random", [], {}),
    ("random", [], {}),
    ("getrandbits", [1], {}),
    ("getrandbits", [32], {}),
    ("getrandbits", [33], {}),
    ("getrandbits", [64], {}),
    ("getrandbits", [100], {}),
    ("randrange", [10], {}),
    ("randrange", [0, 100, 7], {}),
    ("randrange", [10, 0, -3], {}),
    ("randrange", [2**70], {}),
    ("randrange", [-5, 5], {}),
    ("randint", [1, 6], {}),
    ("randint", [1, 6], {}),
    ("randint", [-(2**40), 2**40], {}),
    ("choice", [["a", "b", "c", "d", "e"]], {}),
    ("choice", [{"range": [0, 1000]}], {}),
    ("choices", [["a", "b", "c", "d"]], {"k": 5}),
    ("choices", [["a", "b", "c", "d"]], {"weights": [1, 2, 3, 4], "k": 5}),
    ("choices", [["a", "b", "c", "d"]], {"weights": [0.1, 0.2, 0.3, 0.4], "k": 5}),
    ("choices", [["a", "b", "c", "d"]], {"cum_weights": [1, 3, 6, 10], "k": 3}),
    ("shuffle", [list(range(20))], {}),
    ("sample", [{"range": [0, 100]}, 10], {}),
    ("sample", [{"range": [0, 1000]}, 50], {}),
    ("sample", [["x", "y", "z", "w"], 3], {}),
    ("sample", [["a", "b"]], {"k": 4, "counts": [3, 2]}),
    ("uniform", [1, 10], {}),
    ("uniform", [2.5, 3.5], {}),
    ("gauss", [], {}),
    ("gauss", [], {}),
    ("gauss", [10, 2], {}),
    ("normalvariate", [0, 1], {}),
    ("expovariate", [2], {}),
    ("triangular", [0, 10, 3], {}),
    ("lognormvariate", [0, 1], {}),
    ("paretovariate", [2], {}),
    ("weibullvariate", [1, 2], {}),
    ("random", [], {}),
]


def arg(a):
    if isinstance(a, dict) and "range" in a:
        return range(*a["range"])
    if isinstance(a, list):
        return list(a)
    return a


def main():
    cases = []
    for seed in SEEDS:
        r = random.Random(seed)
        calls = []
        for fn, args, kwargs in CALLS:
            args2 = [arg(a) for a in args]
            got = getattr(r, fn)(*args2, **kwargs)
            if fn == "shuffle":
                got = args2[0]
            calls.append({"fn": fn, "args": args, "kwargs": kwargs, "want": got})
        cases.append({"seed": seed, "calls": calls})
    # A long run of gauss and normalvariate checks Go's math library
    # against C's over many draws.
    r = random.Random(7)
    # "wants" means: call it once per entry.
    long = [
        {"fn": "gauss", "args": [], "kwargs": {}, "wants": [r.gauss() for _ in range(2000)]},
        {"fn": "normalvariate", "args": [], "kwargs": {}, "wants": [r.normalvariate() for _ in range(500)]},
        {"fn": "expovariate", "args": [1.5], "kwargs": {}, "wants": [r.expovariate(1.5) for _ in range(500)]},
    ]
    cases.append({"seed": 7, "calls": long})
    with open("golden.json", "w") as f:
        f.write('{"python": %s, "cases": [\n' % json.dumps(sys.version.split()[0]))
        f.write(",\n".join(json.dumps(c) for c in cases))
        f.write("\n]}\n")


main()
