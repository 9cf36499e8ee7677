import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def score(x):
    return x * 3


for x in [1, 3, 5]:
    s = score(x).result()
    print(x, s, 0 < s < 10, 1 <= x <= s, s > x == 1)
