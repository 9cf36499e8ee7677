import random
import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))


@python_app
def sample(seed):
    rng = random.Random(seed)
    return [rng.randint(1, 100) for _ in range(5)]


print(sample(7).result())
random.seed(42)
print(random.randint(1, 6), random.randint(1, 6), random.randrange(0, 100, 5))
print(random.choice(["a", "b", "c", "d"]))
xs = list(range(10))
random.shuffle(xs)
print(xs)
print(round(random.gauss(0, 1), 12), round(random.random(), 12), round(random.uniform(2, 4), 12))
print(random.sample(range(20), 4), random.choices("xyz", k=5))
