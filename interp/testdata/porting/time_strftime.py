import time
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def stamp(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


print(stamp(0).result())
print(stamp(1700000000).result())
print(time.strftime("%a %b %d %j", time.gmtime(86400 * 45)))
t0 = time.time()
time.sleep(0.01)
print(time.time() >= t0)
