# FAKE parsl (expectation generation only).
class ThreadPoolExecutor:
    def __init__(self, **kw):
        self.__dict__.update(kw)
