import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def result(name, score):
    return {"name": name, "score": score}


rs = [result(n, s).result() for n, s in [("a", 3), ("b", 9), ("c", 1)]]
print([r["name"] for r in sorted(rs, key=lambda r: r["score"], reverse=True)])
print(max(rs, key=lambda r: r["score"])["name"], min(rs, key=lambda r: r["score"])["name"])
print(max([], default="empty"), min([4, 2, 8]), sorted(["b", "a", "n"]))
