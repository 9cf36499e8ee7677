import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def divide(a, b):
    return a / b


for b in [2, 0]:
    try:
        print(divide(10, b).result())
    except ZeroDivisionError as e:
        print("ZeroDivisionError:", e.__class__.__name__)
    else:
        print("no error")
    finally:
        print("done", b)
