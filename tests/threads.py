"""Races on real connections: several calls started at the same instant, each in its own
thread with its own database connection, as two requests or two workers would."""

import threading

from django.db import connection

TIMEOUT = 30


def run_together(*calls, timeout=TIMEOUT):
    """Run every call at once; return their results in the order given. An exception in a
    thread is raised again here, in the test's own thread; a thread still running after
    `timeout` fails the test (a deadlock, say)."""
    barrier = threading.Barrier(len(calls), timeout=timeout)
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            outcomes[index] = ("ok", call())
        except BaseException as error:  # reported below, in the test's own thread
            outcomes[index] = ("error", error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(index, call), daemon=True)
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    for kind, value in outcomes:
        if kind == "error":
            raise value
    return [value for _, value in outcomes]
