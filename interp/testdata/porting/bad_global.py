import parsl

x = 0


def bump():
    global x
    x += 1
