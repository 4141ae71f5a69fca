"""One daemon per SQLite state file: an OS file lock next to the database.

SQLite is safe for several readers and writers, but two daemons serving the same accounts would
both answer every mention (and, where the server ignores ``Idempotency-Key``, post every
scheduled post twice). So ``civicbot run`` takes an exclusive ``flock`` on ``<state>.lock``
(released by the kernel when the process dies, even by SIGKILL) and writes its host and pid in
it; a second daemon is refused with a message naming the file and the process that holds it.
Short commands (``status``, ``pause``) do not take the lock: they only read or set a flag.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from civicbot.errors import StateInUseError


class StateFileLock:
    """The exclusive lock of one SQLite state file (see the module's docstring)."""

    def __init__(self, state: str | Path) -> None:
        self.state = Path(state)
        self.path = self.state.with_name(self.state.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> StateFileLock:
        """Take the lock, or raise :class:`StateInUseError` naming the other process."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise StateInUseError(
                f"the state file {self.state} is already used by another civicbot daemon "
                f"({holder}); SQLite serves one daemon only: stop the other one, or give each "
                f"daemon its own state file, or share the accounts through a postgresql:// "
                f"state") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on host {socket.gethostname()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
