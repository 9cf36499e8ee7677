import json
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def summarize(xs):
    return {"n": len(xs), "total": sum(xs), "items": xs, "ok": True, "none": None}


s = summarize([3, 1, 2]).result()
print(json.dumps(s, sort_keys=True))
print(json.dumps(s, indent=2, sort_keys=True))
back = json.loads('{"a": [1, 2.5, "x"], "b": {"c": null, "d": false}}')
print(back["a"], back["b"]["c"], back["b"]["d"])
with open("s.json", "w") as f:
    json.dump(s, f)
with open("s.json") as f:
    print(json.load(f)["total"])
