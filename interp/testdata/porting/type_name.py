import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def divide(a, b):
    return a / b


try:
    divide(1, 0).result()
except ZeroDivisionError as e:
    print(type(e).__name__)
