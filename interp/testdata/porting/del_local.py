import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def keys():
    return ["a", "b", "c"]


d = {k: i for i, k in enumerate(keys().result())}
del d["b"]
print(sorted(d.items()))
xs = [0, 1, 2, 3]
del xs[1]
print(xs)
