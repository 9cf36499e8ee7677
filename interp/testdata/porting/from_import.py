import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

from mylib import helper, lib_app

parsl.load(Config(executors=[ThreadPoolExecutor()]))
print(helper(1), lib_app(21).result())
