import concurrent.futures
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def work(x):
    return x + 100


futs = [work(i) for i in range(4)]
done, not_done = concurrent.futures.wait(futs)
print(len(done), len(not_done))
print(sorted(f.result() for f in done))
done, not_done = concurrent.futures.wait(futs, timeout=10, return_when=concurrent.futures.FIRST_COMPLETED)
print(len(done) >= 1)
