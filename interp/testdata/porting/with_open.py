import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def write_lines(path, n):
    with open(path, "w") as f:
        for i in range(n):
            f.write(f"line {i}\n")
    return path


p = write_lines("out.txt", 3).result()
with open(p) as f:
    print(f.read(), end="")
with open(p, "a") as f:
    f.writelines(["extra\n"])
with open(p) as f:
    print(f.readlines())
with open(p) as f:
    for line in f:
        print(line.strip().upper())
