import math
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def stats(n):
    return math.isqrt(n), math.comb(n, 3), math.fsum([0.1] * 10)


print(stats(50).result())
print(math.inf > 10 ** 300, -math.inf, math.isnan(math.nan))
print(math.sqrt(2), math.floor(-2.5), math.ceil(2.1), math.pi)
print(math.isclose(0.1 + 0.2, 0.3), math.prod([1, 2, 3, 4]), math.gcd(12, 18))
print(math.log(100, 10), math.exp(1) == math.e, math.factorial(10))
