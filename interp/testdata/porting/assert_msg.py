import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def double(x):
    return 2 * x


r = double(21).result()
assert r == 42
assert r > 0, "positive"
try:
    assert r < 0, f"got {r}"
except AssertionError as e:
    print("caught:", e)
print("ok")
