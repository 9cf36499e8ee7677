import os
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def touch(name):
    with open(name, "w") as f:
        f.write("x")


for i in range(4):
    touch(f"f{i}.out")
parsl.wait_for_current_tasks()
print(sorted(n for n in os.listdir(".") if n.endswith(".out")))
