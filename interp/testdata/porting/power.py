import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def power(b, e):
    return b ** e


print(power(2, 10).result(), power(2, 100).result())
print(power(2.0, 0.5).result(), power(2, -1).result())
print(2 ** 3 ** 2, -2 ** 2, (-2) ** 2, 10 ** -2)
