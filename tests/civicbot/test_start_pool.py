"""The start pool: accounts started a few at a time, in order; one still waiting can be taken
out before anything of it started."""

from __future__ import annotations

import threading

from civicbot.start_pool import StartPool


class Starts:
    """A start that blocks until released, recording how many run at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started: list[str] = []
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()
        self.two_running = threading.Event()

    def __call__(self, key: str) -> None:
        with self.lock:
            self.started.append(key)
            self.running += 1
            self.most = max(self.most, self.running)
            if self.running == 2:
                self.two_running.set()
        self.release.wait(10)
        with self.lock:
            self.running -= 1


def test_at_most_size_starts_at_once_in_the_order_given():
    starts = Starts()
    done = threading.Event()
    pool = StartPool(2, starts, on_done=done.set)
    keys = [f"a{i}" for i in range(8)]
    pool.submit(keys)
    assert starts.two_running.wait(10)
    assert pool.pending() == 8
    starts.release.set()
    assert pool.join(10)
    assert done.is_set()
    assert starts.most == 2
    assert starts.started == keys
    assert pool.pending() == 0
    pool.close()


def test_a_waiting_account_is_cancelled_a_running_one_is_waited_for():
    starts = Starts()
    pool = StartPool(2, starts)
    pool.submit(["a", "b", "c"])
    assert starts.two_running.wait(10)
    assert pool.cancel("c") is True  # still waiting: never started
    pool.submit(["a"])  # already starting: not queued twice
    assert pool.pending() == 2
    cancelled = []
    waiter = threading.Thread(target=lambda: cancelled.append(pool.cancel("a")))
    waiter.start()
    starts.release.set()  # "a" finishes its start; cancel() returns False after it
    waiter.join(10)
    assert cancelled == [False]
    assert pool.join(10)
    assert sorted(starts.started) == ["a", "b"]
    pool.close()


def test_a_failing_start_does_not_kill_its_worker_and_close_drops_the_waiting():
    started: list[str] = []
    gate = threading.Event()

    def start(key: str) -> None:
        started.append(key)
        if key == "boom":
            raise RuntimeError("bug in a start")
        gate.wait(10)

    pool = StartPool(1, start)
    pool.submit(["boom", "ok", "never"])
    for _ in range(1000):
        if started == ["boom", "ok"]:
            break
        threading.Event().wait(0.01)
    closer = threading.Thread(target=pool.close)
    closer.start()
    gate.set()
    closer.join(10)
    assert started == ["boom", "ok"]
    pool.submit(["late"])  # closed: nothing more is started
    assert pool.pending() == 0
