import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

config = Config(executors=[ThreadPoolExecutor(label="local", max_threads=4)])


@python_app
def inc(x):
    return x + 1


with parsl.load(config) as dfk:
    futs = [inc(i) for i in range(5)]
    print([f.result() for f in futs])
print("after block")
