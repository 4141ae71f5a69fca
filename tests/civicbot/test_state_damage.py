"""Issue 13: a state file emptied or truncated while the bot was stopped is refused with a
clear message (exit 1), instead of a silent fresh start (answering the last day again) or a
traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from civicbot.errors import StateError
from civicbot.state import SQLiteStateStore


def _used_state(path: Path) -> None:
    store = SQLiteStateStore(path)
    for i in range(300):
        store.mark_notification("ville", str(1000 + i), cursor=str(1000 + i))
        store.kv_set("ville", "weather", f"k{i}", {"text": "x" * 200})
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def _run(tmp_path: Path, state: Path) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("mastodon:\n  api_base_url: http://127.0.0.1:9\n  access_token: x\n"
                   f"state: {state}\n", encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "civicbot", "run", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=120)


def test_an_emptied_state_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    _used_state(state)
    state.write_bytes(b"")
    result = _run(tmp_path, state)
    assert result.returncode == 1
    assert "is empty" in result.stderr and "Traceback" not in result.stderr
    assert state.stat().st_size == 0  # nothing written over it


def test_a_truncated_state_file_is_refused_without_traceback(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    _used_state(state)
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 2])
    result = _run(tmp_path, state)
    assert result.returncode == 1, result.stderr[-1000:]
    assert "is damaged" in result.stderr and "Traceback" not in result.stderr


def test_a_garbage_state_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    state.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StateError, match="damaged"):
        SQLiteStateStore(state)


def test_a_missing_state_file_is_a_fresh_start(tmp_path: Path) -> None:
    store = SQLiteStateStore(tmp_path / "new" / "state.sqlite3")
    assert store.get_cursor("ville", "notifications") is None
    store.close()
