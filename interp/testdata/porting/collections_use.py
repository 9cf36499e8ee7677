from collections import Counter, defaultdict, namedtuple
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def words(line):
    return line.split()


lines = ["a b a", "c b a"]
c = Counter()
for f in [words(l) for l in lines]:
    c.update(f.result())
print(c.most_common(2), c["a"], c["zzz"])
groups = defaultdict(list)
for w in ["ant", "bee", "ape"]:
    groups[w[0]].append(w)
print(sorted(groups.items()))
Point = namedtuple("Point", ["x", "y"])
p = Point(1, y=2)
print(p.x + p.y, p)
