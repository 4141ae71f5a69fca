"""Who the bot never answers, and how often it answers the others.

Refusals (checked on every mention): the bot's own account, accounts flagged ``bot`` (unless in
``allow_bots``), accounts whose display name, profile note or profile fields carry ``#nobot`` or
``#noreply``. Limits (kept in ``bot.state.namespace("auto_reply")``, so they survive restarts):
a per-account cooldown and a cap of replies per conversation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from civicbot import Bot, html_to_text

NAMESPACE = "auto_reply"
_OPT_OUT = re.compile(r"(?<![\w#])#no(?:bot|reply)(?!\w)", re.IGNORECASE)
#: Conversation counters and thread links older than this are forgotten at start-up.
KEEP_THREADS = timedelta(days=30)
#: A loop guard across threads: at most this many replies to one account within the window
#: (a bot without the bot flag opening a new thread each time would otherwise get an answer
#: every cooldown, for ever). Residents stay far below it with the default 2-minute cooldown.
LOOP_MAX_REPLIES = 6
LOOP_WINDOW = timedelta(minutes=10)


def opted_out(account: Mapping[str, Any]) -> bool:
    """True when the profile asks bots not to interact (``#nobot`` / ``#noreply``)."""
    texts = [str(account.get("display_name") or ""), html_to_text(str(account.get("note") or ""))]
    for field in account.get("fields") or []:
        if isinstance(field, Mapping):
            texts.append(html_to_text(str(field.get("name") or "")))
            texts.append(html_to_text(str(field.get("value") or "")))
    return any(_OPT_OUT.search(text) for text in texts)


def same_acct(a: str, b: str) -> bool:
    return a.lstrip("@").casefold() == b.lstrip("@").casefold()


def refusal(bot: Bot, account: Mapping[str, Any], allow_bots: Iterable[str]) -> str | None:
    """Why this account must not be answered, or None."""
    acct = str(account.get("acct") or "")
    if bot.is_own_account(account):  # ``bot``, ``bot@host``, ``bot@host:port`` (snac)
        return "own account"
    if account.get("bot") and not any(same_acct(acct, allowed) for allowed in allow_bots):
        return "bot account"
    if opted_out(account):
        return "#nobot in profile"
    return None


def is_admin(acct: str, admins: Iterable[str], local_domains: Iterable[str]) -> bool:
    """``acct`` as notifications give it (``user@domain``, or ``user`` for a local account) is
    one of ``admins``, compared case-insensitively; ``comm@our.domain`` and ``comm`` name the
    same local account."""
    user, _, domain = acct.lstrip("@").casefold().partition("@")
    local = {d.casefold() for d in local_domains if d}
    for admin in admins:
        a_user, _, a_domain = admin.lstrip("@").casefold().partition("@")
        if a_user != user:
            continue
        if a_domain == domain:
            return True
        if (not domain and a_domain in local) or (not a_domain and domain in local):
            return True
    return False


class Limits:
    """The cooldown per account and the cap of replies per conversation."""

    def __init__(self, bot: Bot, cooldown: timedelta, max_per_thread: int | None) -> None:
        self.state = bot.state.namespace(NAMESPACE)
        self.cooldown = cooldown
        self.max_per_thread = max_per_thread

    # -- cooldown --------------------------------------------------------------------------
    def cooling_down(self, acct: str, now: datetime) -> bool:
        if self.cooldown <= timedelta(0):
            return False
        last = self.state.get(f"last_reply:{acct.casefold()}")
        if not last:
            return False
        return now - datetime.fromisoformat(str(last)) < self.cooldown

    def too_many_exchanges(self, acct: str, now: datetime) -> bool:
        """True when the account already got :data:`LOOP_MAX_REPLIES` replies within
        :data:`LOOP_WINDOW`, whatever the threads (a loop with another bot, most likely)."""
        return len(self._recent_exchanges(acct, now)) >= LOOP_MAX_REPLIES

    def _recent_exchanges(self, acct: str, now: datetime) -> list[str]:
        entry = self.state.get(f"exchanges:{acct.casefold()}")
        stamps = entry.get("times", []) if isinstance(entry, Mapping) else []
        recent = []
        for stamp in stamps:
            try:
                if now - datetime.fromisoformat(str(stamp)) < LOOP_WINDOW:
                    recent.append(str(stamp))
            except (TypeError, ValueError):
                continue
        return recent

    # -- conversations ---------------------------------------------------------------------
    def conversation(self, status: Mapping[str, Any]) -> str:
        """The conversation id of a status: Mastodon's ``conversation_id`` when present, else
        the first status of the reply chain as far as the bot saw it."""
        if status.get("conversation_id"):
            return f"c{status['conversation_id']}"
        parent = status.get("in_reply_to_id")
        if not parent:
            return f"s{status['id']}"
        known = self.state.get(f"root:{parent}")
        if isinstance(known, Mapping) and known.get("root"):
            return str(known["root"])
        return f"s{parent}"

    def thread_full(self, conversation: str) -> bool:
        if self.max_per_thread is None:
            return False
        entry = self.state.get(f"thread:{conversation}")
        count = int(entry.get("count", 0)) if isinstance(entry, Mapping) else 0
        return count >= self.max_per_thread

    # -- bookkeeping -----------------------------------------------------------------------
    def record(self, acct: str, status: Mapping[str, Any], conversation: str,
               reply_ids: Iterable[str], now: datetime) -> None:
        """A reply was sent: start the cooldown, count it in its conversation, and remember
        that the mention and the reply belong to that conversation."""
        when = now.isoformat()
        self.state.set(f"last_reply:{acct.casefold()}", when)
        self.state.set(f"exchanges:{acct.casefold()}",
                       {"times": [*self._recent_exchanges(acct, now), when], "at": when})
        entry = self.state.get(f"thread:{conversation}")
        count = int(entry.get("count", 0)) if isinstance(entry, Mapping) else 0
        self.state.set(f"thread:{conversation}", {"count": count + 1, "at": when})
        for status_id in (str(status["id"]), *reply_ids):
            self.state.set(f"root:{status_id}", {"root": conversation, "at": when})

    def prune(self, now: datetime) -> int:
        """Forget old cooldowns, counters and links; return how many entries went."""
        removed = 0
        horizon = max(KEEP_THREADS, self.cooldown)
        for key, value in self.state.items().items():
            when = value.get("at") if isinstance(value, Mapping) else value
            try:
                stamp = datetime.fromisoformat(str(when))
            except ValueError:
                continue
            if stamp.tzinfo is not None and now - stamp > horizon:
                self.state.delete(key)
                removed += 1
        return removed
