import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor


@python_app
def hello(name):
    return f"hello {name}"


def main():
    parsl.load(Config(executors=[ThreadPoolExecutor()]))
    print(hello("world").result())


if __name__ == "__main__":
    main()
