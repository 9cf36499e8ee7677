# FAKE parsl (expectation generation only).
class DependencyError(Exception):
    def __init__(self, dependent_exceptions_tids, task_id):
        self.dependent_exceptions_tids = dependent_exceptions_tids
        self.task_id = task_id


class BashExitFailure(Exception):
    def __init__(self, app_name, exitcode):
        self.app_name = app_name
        self.exitcode = exitcode


class AppTimeout(Exception):
    pass
