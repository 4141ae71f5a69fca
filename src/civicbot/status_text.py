"""The text of ``civicbot status``: real values, or words for what has not happened yet
("never connected", "no notification handled yet"), never ``None``."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def _when(value: Any) -> str:
    """An ISO time as ``2026-12-06 19:53 UTC`` (as stored: UTC)."""
    if not value:
        return ""
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return stamp.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def format_status(item: dict[str, Any]) -> list[str]:
    """The lines of one account's status (``item`` as ``civicbot status --json`` gives it)."""
    health = item.get("health") or {}
    paused = ", PAUSED (civicbot resume to resume)" if item.get("paused") else ""
    if not health:
        first = f"account {item['account']}: stream never connected (no run recorded){paused}"
    else:
        state = health.get("state") or "unknown"
        transport = health.get("transport")
        updated = _when(health.get("updated_at"))
        last_event = _when(health.get("last_event_at")) or "none yet"
        first = (f"account {item['account']}: stream {state}"
                 f"{f' ({transport})' if transport else ''}"
                 f"{f' as of {updated}' if updated else ''}; last event {last_event}; "
                 f"reconnects {health.get('reconnects', 0)}, "
                 f"queue {health.get('queue_depth', 0)}, "
                 f"handled {health.get('handled', 0)}, failed {health.get('failed', 0)}"
                 f"{paused}")
    cursor = item.get("cursor")
    cursor_text = (f"cursor at notification {cursor}" if cursor is not None
                   else "no notification handled yet")
    sent, pending = item.get("posts_sent", 0), item.get("posts_pending", 0)
    lines = [first, f"  {cursor_text}; posts sent {sent}, pending {pending}"]
    for name, counts in (item.get("channels") or {}).items():
        lines.append(f"  channel {name}: posts sent {counts.get('sent', 0)}, pending "
                     f"{counts.get('pending', 0)}, failed {counts.get('failed', 0)}")
    for name, source in sorted((item.get("sources") or {}).items()):
        if isinstance(source, dict) and not source.get("ok", True):
            lines.append(f"  source {name} FAILING since {source.get('since')} "
                         f"({source.get('failures', 1)} failed reads, last good read "
                         f"{source.get('last_ok') or 'never'}): {source.get('error')}")
    for post in item.get("last_posts") or []:
        lines.append(f"  {_when(post['sent_at']) or 'not sent yet'}  "
                     f"{post['status_id'] or '-'}  {post['dedup_key']}")
    return lines
