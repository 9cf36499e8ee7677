# Helper module for from_import.py (imported with "from mylib import ...").
from parsl.app.app import python_app


def helper(x):
    return f"helped {x}"


@python_app
def lib_app(x):
    return x * 2
