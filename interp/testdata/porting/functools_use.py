import functools
from functools import partial, reduce
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def scale(x, factor=1):
    return x * factor


triple = partial(scale, factor=3)
futs = [triple(i) for i in range(1, 5)]
print(reduce(lambda a, b: a + b, [f.result() for f in futs]))
print(functools.reduce(lambda a, b: a * b, [1, 2, 3, 4], 10))
