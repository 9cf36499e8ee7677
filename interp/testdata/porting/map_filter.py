import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def inc(x):
    return x + 1


futs = list(map(inc, range(6)))
vals = [f.result() for f in futs]
print(list(filter(lambda v: v % 2 == 0, vals)))
print(list(map(str, vals)), list(map(lambda a, b: a * b, vals, vals)))
