"""civicbot.LastGood: the last good value served at once, refreshed in the background, kept
when a load fails; late callers called back."""

from __future__ import annotations

import threading

from civicbot import LastGood


class Source:
    def __init__(self) -> None:
        self.value = 1
        self.fail = False
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()

    def load(self) -> int:
        self.calls += 1
        assert self.gate.wait(10)
        if self.fail:
            raise RuntimeError("feed down")
        return self.value


def test_first_load_waits_at_most_then_serves_from_memory() -> None:
    source = Source()
    last = LastGood(source.load, max_age=3600)
    assert last.current(wait=5) == 1
    source.value = 2
    assert last.current() == 1  # fresh: no new load
    assert source.calls == 1


def test_a_slow_load_never_holds_the_caller_beyond_wait() -> None:
    source = Source()
    source.gate.clear()
    last = LastGood(source.load, max_age=3600)
    assert last.current(wait=0.05) is None
    assert last.loading
    answers: list[object] = []
    last.when_loaded(lambda value, error: answers.append((value, error)))
    source.gate.set()
    deadline = threading.Event()
    for _ in range(100):
        if answers:
            break
        deadline.wait(0.05)
    assert answers == [(1, None)]


def test_stale_value_is_served_while_refreshing_and_a_failure_keeps_it() -> None:
    source = Source()
    last = LastGood(source.load, max_age=0.0, retry_after=3600)
    assert last.current(wait=5) == 1
    source.fail = True
    done = threading.Event()
    assert last.current() == 1  # stale: served, a refresh starts
    last.when_loaded(lambda value, error: done.set())
    assert done.wait(5)
    assert isinstance(last.error, RuntimeError)
    assert last.current() == 1  # the last good value, no new load before retry_after
    assert source.calls == 2


def test_unusable_value_forces_a_load() -> None:
    source = Source()
    last = LastGood(source.load, max_age=3600)
    assert last.current(wait=5) == 1
    source.value = 2
    assert last.current(usable=lambda v: v == 2, wait=5) == 2
