# FAKE parsl (expectation generation only).
class Config:
    def __init__(self, **kw):
        self.__dict__.update(kw)
