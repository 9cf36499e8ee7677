import sys
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def parts():
    return ["a", "b", "c"]


p = parts().result()
print(p[0], p[1], p[2], sep="-")
print("no newline", end="")
print(" continued", end="!\n")
print("error line", file=sys.stderr)
print(1, 2, 3, sep=", ", end=".\n")
