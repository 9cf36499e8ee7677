import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def maybe(x):
    if x % 2:
        return None
    return x


for i in range(4):
    r = maybe(i).result()
    if r is None:
        print(i, "is None")
    elif r is not None and r is not False:
        print(i, "is", r)
print(True is True, None is not None, 3 not in [1, 2])
