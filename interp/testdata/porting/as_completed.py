from concurrent.futures import as_completed
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def square(x):
    return x * x


futs = [square(i) for i in range(5)]
print(sorted(f.result() for f in as_completed(futs)))
