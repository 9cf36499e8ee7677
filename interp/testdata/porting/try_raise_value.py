import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def parse_positive(s):
    n = int(s)
    if n <= 0:
        raise ValueError(f"not positive: {n}")
    return n


for s in ["5", "-3"]:
    try:
        print(parse_positive(s).result())
    except ValueError as e:
        print("ValueError:", e)
try:
    raise ValueError("local")
except Exception as e:
    print(e.__class__.__name__, str(e))
