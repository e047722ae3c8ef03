"""
waiting - poll instead of sleeping a fixed time: a test waits exactly as
long as the server under test needs, up to a deadline.
"""

import time


def wait_until(pred, timeout, step=0.05):
    """Calls pred until it returns something true or timeout seconds pass;
    returns its last value (so `assert wait_until(...)` fails with it)."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)
