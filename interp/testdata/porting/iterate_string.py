import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def word():
    return "banana"


w = word().result()
print(sorted(w), list(w)[:2], [c for c in w if c != "a"], set(w) == {"a", "b", "n"})
