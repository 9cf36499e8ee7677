import glob
import os
import os.path
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def make(dirname, names):
    os.makedirs(dirname, exist_ok=True)
    for n in names:
        with open(os.path.join(dirname, n), "w") as f:
            f.write(n * 3)
    return sorted(os.listdir(dirname))


print(make("data/raw", ["b.txt", "a.txt", "c.csv"]).result())
os.makedirs("data/raw", exist_ok=True)
print(sorted(glob.glob("data/raw/*.txt")))
print(glob.glob("data/**/*.csv", recursive=True))
p = os.path.join("data", "raw", "a.txt")
print(os.path.exists(p), os.path.isfile(p), os.path.isdir("data"), os.path.getsize(p))
print(os.path.basename(p), os.path.dirname(p), os.path.splitext(p))
os.rename(p, "data/raw/z.txt")
os.remove("data/raw/b.txt")
print(sorted(os.listdir("data/raw")))
print(os.path.abspath("x") == os.path.join(os.getcwd(), "x"))
print(os.getenv("STARFLOW_SURELY_UNSET", "default"))
