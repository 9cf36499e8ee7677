import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def apply(xs):
    f = lambda x, k=2: x * k
    return [f(x) for x in xs] + [f(1, k=10)]


print(apply([1, 2, 3]).result())
tmpl = "{a}+{b}"
print(tmpl.format_map({"a": 1, "b": 2}))
