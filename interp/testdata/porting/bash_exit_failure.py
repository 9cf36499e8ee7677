import parsl
from parsl.app.app import bash_app
from parsl.app.errors import BashExitFailure
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@bash_app
def run(code):
    return f"exit {code}"


print(run(0).result())
try:
    run(3).result()
except BashExitFailure as e:
    print("exit code:", e.exitcode)
