"""periodic.every: a step every interval in a daemon thread, failures reported and retried, stop waits."""

import threading
import time

from clickport.periodic import every


def test_steps_repeat_failures_are_reported_and_stop_waits_for_a_running_step():
    calls, failures = [], []
    running = threading.Event()
    release = threading.Event()

    def step():
        calls.append(time.monotonic())
        if len(calls) == 2:
            raise RuntimeError("a busy disk")
        if len(calls) == 4:
            running.set()
            release.wait(5)

    stop = every(0.01, step, name="test-periodic", failed=lambda: failures.append(len(calls)))
    assert running.wait(5), "the steps stopped after a failure"
    stopper = threading.Thread(target=stop)
    stopper.start()
    stopper.join(0.2)
    assert stopper.is_alive()  # waiting for the running step
    release.set()
    stopper.join(5)
    assert not stopper.is_alive()
    count = len(calls)
    time.sleep(0.05)
    assert len(calls) == count == 4  # no step after stop
    assert failures == [2]
