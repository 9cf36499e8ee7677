import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def check(x):
    if x == 3:
        raise RuntimeError("three")
    return x


def first_failure(n):
    for i in range(n):
        try:
            check(i).result()
        except RuntimeError:
            return i
        finally:
            print("checked", i)
    return -1


print("first failure:", first_failure(5))
for i in range(5):
    try:
        if i == 1:
            continue
        if i == 4:
            break
        check(i).result()
    except RuntimeError as e:
        print("skip", e)
        continue
    else:
        print("ok", i)
    finally:
        print("end", i)
