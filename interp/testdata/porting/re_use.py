import re
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def log_line(i):
    return f"step={i} loss=0.{9 - i}5 acc={i}0%"


text = "\n".join(log_line(i).result() for i in range(3))
print(re.findall(r"loss=([0-9.]+)", text))
print(re.sub(r"\d+%", "N%", text))
m = re.search(r"step=(\d+) loss=(\S+)", text)
print(m.group(1), m.group(2))
print(re.split(r"\s+", "a  b\tc"), bool(re.match(r"^step", text)))
