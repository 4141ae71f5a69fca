"""Starting many accounts: a few at a time, in order, instead of one thread per account.

Starting an account is a handful of requests to its instance and to the state store, plus the
threads of its stream, dispatcher and jobs. With hundreds of accounts, one thread each racing
for the interpreter makes every start slow and the first streams late; a bounded pool of
workers (``cluster.start_concurrency``, 16 by default) starts them in order, each as fast as
the instance answers. An account still waiting can be taken out (its lease was lost or given
back) before anything of it started.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable

__all__ = ["StartPool"]


class StartPool:
    """Runs ``start(key)`` for each submitted key on at most ``size`` worker threads."""

    def __init__(self, size: int, start: Callable[[str], None], *, name: str = "civicbot-start",
                 on_done: Callable[[], None] | None = None) -> None:
        self.size = max(1, size)
        self._start = start
        self._name = name
        self._on_done = on_done
        self._queue: deque[str] = deque()
        self._running: dict[str, threading.Event] = {}
        self._waiting: dict[str, threading.Event] = {}
        self._cond = threading.Condition()
        self._workers: list[threading.Thread] = []
        self._idle_workers = 0
        self._closed = False

    def submit(self, keys: Iterable[str]) -> None:
        """Queue keys to start (a key already queued or starting is not queued again)."""
        with self._cond:
            if self._closed:
                return
            for key in keys:
                if key in self._waiting or key in self._running:
                    continue
                self._waiting[key] = threading.Event()
                self._queue.append(key)
                if self._idle_workers == 0 and len(self._workers) < self.size:
                    worker = threading.Thread(target=self._work, daemon=True,
                                              name=f"{self._name}-{len(self._workers)}")
                    self._workers.append(worker)
                    worker.start()
                else:
                    self._cond.notify_all()  # (join() waits on the same condition)

    def pending(self) -> int:
        """Keys queued or starting."""
        with self._cond:
            return len(self._queue) + len(self._running)

    def cancel(self, key: str, timeout: float = 30.0) -> bool:
        """Take ``key`` out: True when it was still waiting (nothing of it started); else wait
        (at most ``timeout`` seconds) until a start in progress has finished, and return
        False."""
        with self._cond:
            waiting = self._waiting.pop(key, None)
            if waiting is not None:
                self._queue.remove(key)
                waiting.set()
                return True
            running = self._running.get(key)
        if running is not None:
            running.wait(timeout)
        return False

    def close(self, timeout: float = 30.0) -> None:
        """Start nothing more (waiting keys are dropped); wait for the starts in progress."""
        with self._cond:
            self._closed = True
            for event in self._waiting.values():
                event.set()
            self._waiting.clear()
            self._queue.clear()
            running = list(self._running.values())
            self._cond.notify_all()
        for event in running:
            event.wait(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued or starting; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._running, timeout)

    def _work(self) -> None:
        while True:
            with self._cond:
                self._idle_workers += 1
                while not self._queue and not self._closed:
                    self._cond.wait()
                self._idle_workers -= 1
                if self._closed:
                    return
                key = self._queue.popleft()
                done = self._waiting.pop(key)
                self._running[key] = done
            try:
                self._start(key)
            except Exception:  # start() reports its own failures; the worker lives on
                pass
            finally:
                with self._cond:
                    self._running.pop(key, None)
                    done.set()
                    self._cond.notify_all()
                if self._on_done is not None:
                    self._on_done()
