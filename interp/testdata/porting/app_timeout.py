import parsl
from parsl.app.app import bash_app
from parsl.app.errors import AppTimeout
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@bash_app
def slow(walltime=1):
    return "sleep 30"


try:
    slow(walltime=1).result()
except AppTimeout as e:
    print("timed out:", e.__class__.__name__)
