import itertools
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def run(a, b):
    return f"{a}-{b}"


futs = [run(a, b) for a, b in itertools.product([1, 2], ["x", "y"])]
print([f.result() for f in futs])
print(list(itertools.combinations("abcd", 2)))
words = ["apple", "avocado", "banana", "blueberry", "cherry"]
for k, g in itertools.groupby(words, key=lambda w: w[0]):
    print(k, list(g))
print(list(itertools.chain([1], [2, 3])), list(itertools.accumulate([1, 2, 3, 4])))
print(list(itertools.islice(itertools.count(10), 3)), list(itertools.permutations([1, 2, 3], 2))[:3])
