import parsl
from parsl.app.app import bash_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@bash_app
def echo(msg, stdout=None):
    return f"echo {msg}"


f = echo("hello from bash", stdout="echo.out")
print(f.result())
with open("echo.out") as fh:
    print(fh.read().strip())
