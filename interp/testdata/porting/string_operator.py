import operator
import string
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def pairs():
    return [("b", 2), ("a", 3), ("c", 1)]


print(sorted(pairs().result(), key=operator.itemgetter(1)))
print(string.ascii_lowercase[:5], string.digits, operator.add(2, 3))
