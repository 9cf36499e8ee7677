import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def value(kind):
    return {"int": 7, "float": 2.675, "str": "s", "list": [1], "dict": {}}[kind]


for k in ["int", "float", "str", "list", "dict"]:
    v = value(k).result()
    print(k, isinstance(v, int), isinstance(v, (float, str)), isinstance(v, list), isinstance(v, dict))
print(round(2.675, 2), round(2.5), round(3.5), round(1234.5678, -2), round(7))
print(divmod(17, 5), divmod(-17, 5), abs(-3.5), pow(2, 10), pow(3, 4, 5))
