# FAKE parsl, for generating .expected files with CPython only (see
# ../../gen_expected.sh). It is never used by the tests: starflow runs the
# scripts itself. It imitates just what the corpus scripts rely on.
import concurrent.futures as _cf
from parsl.config import Config
from parsl.app.app import python_app, bash_app, join_app
from parsl.app import app as _app


class _DFK:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        wait_for_current_tasks()
        return False

    def cleanup(self):
        wait_for_current_tasks()


def load(config=None):
    return _DFK()


def wait_for_current_tasks():
    _cf.wait(list(_app._all))


def clear():
    pass
