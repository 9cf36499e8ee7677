import sys
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def count(args):
    return len(args)


print(len(sys.argv), sys.argv[0].endswith("sys_argv.py"), count(sys.argv[1:]).result())
print("to stderr", file=sys.stderr)
