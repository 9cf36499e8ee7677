# FAKE parsl (expectation generation only).
