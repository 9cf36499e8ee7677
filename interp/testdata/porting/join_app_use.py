import parsl
from parsl.app.app import join_app, python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def add(a, b):
    return a + b


@join_app
def fib(n):
    if n < 2:
        return add(n, 0)
    return add(fib(n - 1), fib(n - 2))


print(fib(10).result())
