"""One daemon per SQLite file (issue 13 item 9): the second is refused, naming file and holder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from civicbot.errors import StateInUseError
from civicbot.state_lock import StateFileLock


def test_second_lock_is_refused_and_named(tmp_path: Path):
    state = tmp_path / "civicbot.sqlite3"
    first = StateFileLock(state).acquire()
    with pytest.raises(StateInUseError) as info:
        StateFileLock(state).acquire()
    message = str(info.value)
    assert str(state) in message
    assert f"pid {os.getpid()} on host {socket.gethostname()}" in message
    first.release()
    StateFileLock(state).acquire().release()  # free again once released


def test_the_lock_dies_with_its_process(tmp_path: Path):
    state = tmp_path / "civicbot.sqlite3"
    script = textwrap.dedent(f"""
        import os, signal
        from civicbot.state_lock import StateFileLock
        StateFileLock({str(state)!r}).acquire()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == -9
    StateFileLock(state).acquire().release()
