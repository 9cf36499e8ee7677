import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def work(x):
    return x * 10


seen = []
futs = [work(i) for i in range(3)]
for f in futs:
    f.add_done_callback(lambda fut: seen.append(fut.result()))
parsl.wait_for_current_tasks()
print(sorted(seen))
print([f.done() for f in futs], futs[0].cancelled(), futs[0].running())
