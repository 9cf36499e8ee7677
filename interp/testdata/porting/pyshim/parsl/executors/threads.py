from parsl.executors import ThreadPoolExecutor  # FAKE parsl
