import parsl
from parsl.app.app import python_app
from parsl.app.errors import DependencyError
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def fail():
    raise ValueError("boom")


@python_app
def after(x):
    return x + 1


a = fail()
b = after(a)
try:
    b.result()
except DependencyError as e:
    print("DependencyError", e.__class__.__name__)
    print("failed deps:", len(e.dependent_exceptions_tids))
    print("dep tid:", e.dependent_exceptions_tids[0][1] == f"task {a.tid}", e.task_id == b.tid)
