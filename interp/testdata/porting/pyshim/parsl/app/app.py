# FAKE parsl (expectation generation only): apps run on a thread pool,
# futures are concurrent.futures.Future with a .tid.
import concurrent.futures as _cf
import functools
import subprocess
import threading
from parsl.app.errors import DependencyError, BashExitFailure

_pool = _cf.ThreadPoolExecutor(8)
_all = []
_lock = threading.Lock()
_next = [0]


def _submit(run, args, kwargs):
    with _lock:
        tid = _next[0]
        _next[0] += 1

    def task():
        deps = [a for a in list(args) + list(kwargs.values()) if isinstance(a, _cf.Future)]
        failed = []
        for d in deps:
            if d.exception() is not None:
                failed.append((d.exception(), f"task {d.tid}"))  # Parsl names a task "task N"
        if failed:
            raise DependencyError(failed, tid)
        a = [x.result() if isinstance(x, _cf.Future) else x for x in args]
        k = {n: (v.result() if isinstance(v, _cf.Future) else v) for n, v in kwargs.items()}
        return run(*a, **k)

    f = _pool.submit(task)
    f.tid = tid
    _all.append(f)
    return f


def _decorator(kind):
    def deco(fn=None, **opts):
        def wrap(fn):
            @functools.wraps(fn)
            def call(*args, **kwargs):
                if kind == "bash":
                    def run(*a, **k):
                        cmd = fn(*a, **k)
                        r = subprocess.run(cmd, shell=True, stdout=k.get("stdout") and open(k["stdout"], "w"))
                        if r.returncode != 0:
                            raise BashExitFailure(fn.__name__, r.returncode)
                        return r.returncode
                elif kind == "join":
                    def run(*a, **k):
                        inner = fn(*a, **k)
                        if isinstance(inner, list):
                            return [x.result() for x in inner]
                        return inner.result()
                else:
                    run = fn
                return _submit(run, args, kwargs)
            return call
        if fn is not None:
            return wrap(fn)
        return wrap
    return deco


python_app = _decorator("python")
bash_app = _decorator("bash")
join_app = _decorator("join")
