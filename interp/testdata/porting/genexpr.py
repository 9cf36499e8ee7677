import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def square(x):
    return x * x


futs = [square(i) for i in range(6)]
print(sum(f.result() for f in futs))
print(any(f.result() > 20 for f in futs), all(f.result() > 20 for f in futs))
print(", ".join(str(f.result()) for f in futs))
print(max(f.result() % 7 for f in futs))
