import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def stats(n):
    return n * 1000.5, n


v, n = stats(1234).result()
print("{:>12,.2f}|{:<6d}|{:_}".format(v, n, 10 ** 7))
print("{0:08.3f} {1:o} {1:b} {2:e}".format(3.14159, 10, 12345.678))
print("{name:^9}|{val:g}".format(name="mid", val=0.0001))
print("%5d|%-8s|%.3f|%x|%05.1f" % (n, "left", v, 255, 2.25))
print("%(k)s=%(v)d" % {"k": "key", "v": 7})
