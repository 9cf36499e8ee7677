import parsl


class Foo:
    pass
