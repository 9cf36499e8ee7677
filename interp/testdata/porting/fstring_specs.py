import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=2)]))


@python_app
def area(r):
    return 3.14159 * r ** 2


name = "disk"
a = area(2.5).result()
print(f"{name!r} area={a:>10.3f}|")
print(f"{name:*^12}|{42:+d}|{1234567:,}|{255:#x}|{0.25:.1%}")
print(f"{a=:.2f}")
print(f"""{"nested 'quotes'"}""")
print(rf"raw\n{name}")
