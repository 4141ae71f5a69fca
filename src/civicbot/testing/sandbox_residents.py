"""Resident injection for the sandbox instance: mentions, statuses, notifications, edits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from civicbot.testing.sandbox_entities import (
    MENTION_RE,
    account_entity,
    extract_tags,
    iso,
    notification_entity,
    status_entity,
    text_to_html,
)
from civicbot.testing.sandbox_profiles import id_sort_key
from civicbot.testing.sandbox_state import SandboxState

__all__ = ["STATUSES_WITH_STATUS", "ResidentsMixin"]

STATUSES_WITH_STATUS = frozenset(
    {"mention", "status", "reblog", "favourite", "poll", "update", "quote", "quoted_update"}
)


class ResidentsMixin(SandboxState):
    """What the town's residents do: mention the bot, post, notify, edit, delete."""

    def _resident(
        self, acct: str, display_name: str | None, bot: bool, note: str, created: datetime
    ) -> dict[str, Any]:
        acct = acct.lstrip("@")
        if "@" not in acct:
            acct = self.local_acct(acct)
        existing = self._accounts_by_acct.get(acct.lower())
        if existing is not None and existing["id"] == self._bot.get("id"):
            return existing
        username = acct.split("@", 1)[0]
        if display_name is None:
            display_name = existing["display_name"] if existing else username
        if (
            existing is not None
            and existing["display_name"] == display_name
            and existing["bot"] == bot
            and (existing["note"] == note or (not note and not existing["note"]))
        ):
            return existing
        account = account_entity(
            account_id=existing["id"] if existing else self._ids.account(created, acct),
            username=username,
            acct=acct,
            base_url=self.url,
            display_name=display_name,
            bot=bot,
            note=note,
            created_at=created,
            statuses_count=existing["statuses_count"] if existing else 0,
            last_status_at=existing["last_status_at"] if existing else None,
        )
        self._remember_account(account)
        return account

    def _bot_mention(self) -> dict[str, Any]:
        return {
            "id": self._bot["id"],
            "username": self._bot["username"],
            "url": self._bot["url"],
            "acct": self._bot["acct"],
        }

    def _resident_content(self, text: str) -> str:
        bot = self.account_username.lower()
        mention_urls = {bot: self._bot["url"], f"{bot}@{self.domain}".lower(): self._bot["url"]}
        mentioned = any(
            m.group(1).lower() == bot and (m.group(2) is None or m.group(2).lower() == self.domain)
            for m in MENTION_RE.finditer(text)
        )
        if not mentioned:
            text = f"@{self.account_username} {text}"
        return text_to_html(text, mention_url=mention_urls)

    def inject_mention(
        self,
        text: str,
        *,
        acct: str = "alice@other.example",
        display_name: str = "Alice",
        bot: bool = False,
        note: str = "",
        visibility: str = "public",
        in_reply_to_id: str | None = None,
        created_at: datetime | None = None,
        html: str | None = None,
        language: str | None = "fr",
    ) -> dict[str, Any]:
        """A resident mentions the bot: stores the status and a ``mention`` notification,
        pushes ``event: notification`` to every open user stream; returns the notification."""
        with self._lock:
            now = self.now()
            created = created_at or now
            account = self._resident(acct, display_name, bot, note, created)
            status = self._resident_status(
                account, text, created, visibility, in_reply_to_id, html, language, True
            )
            return self._add_notification("mention", account, status, now, created)

    def inject_status(
        self,
        text: str,
        *,
        acct: str = "alice@other.example",
        display_name: str = "Alice",
        bot: bool = False,
        visibility: str = "public",
        in_reply_to_id: str | None = None,
        created_at: datetime | None = None,
        html: str | None = None,
        language: str | None = "fr",
    ) -> dict[str, Any]:
        """A followed account posts: pushes ``event: update`` (no notification)."""
        with self._lock:
            created = created_at or self.now()
            account = self._resident(acct, display_name, bot, "", created)
            status = self._resident_status(
                account, text, created, visibility, in_reply_to_id, html, language, False
            )
            self._publish("update", status)
            return status

    def _resident_status(
        self,
        account: dict[str, Any],
        text: str,
        created: datetime,
        visibility: str,
        in_reply_to_id: str | None,
        html: str | None,
        language: str | None,
        mention_bot: bool,
    ) -> dict[str, Any]:
        parent = self._statuses_by_id.get(in_reply_to_id) if in_reply_to_id else None
        if mention_bot:
            content = html if html is not None else self._resident_content(text)
            mentions = [self._bot_mention()]
        else:
            content = html if html is not None else text_to_html(text)
            mentions = []
        status = status_entity(
            status_id=self._ids.status(created),
            account=account,
            content=content,
            created_at=created,
            base_url=self.url,
            in_reply_to_id=str(in_reply_to_id) if in_reply_to_id else None,
            in_reply_to_account_id=parent["account"]["id"] if parent else None,
            visibility=visibility,
            language=language,
            tags=extract_tags(text),
            mentions=mentions,
            application={"name": "Web", "website": None},
        )
        if parent is not None:
            parent["replies_count"] += 1
        self._bump_account(account, created)
        self._statuses_by_id[status["id"]] = status
        return status

    def _add_notification(
        self,
        type: str,
        account: dict[str, Any],
        status: dict[str, Any] | None,
        now: datetime,
        created: datetime,
    ) -> dict[str, Any]:
        notification = notification_entity(
            notification_id=self._ids.notification(now),
            type=type,
            account=account,
            created_at=created,
            status=status,
        )
        self.notifications.append(notification)
        self._notification_ids.append(id_sort_key(notification["id"]))
        self._publish("notification", notification)
        self._changed.notify_all()
        return notification

    def inject_notification(self, type: str, **kw: Any) -> dict[str, Any]:
        """Any notification type (``favourite``, ``follow``, ``reblog``, ``mention``...).

        Keywords: ``acct``, ``display_name``, ``bot``, ``note``, ``created_at``,
        ``status_id`` (the status concerned; defaults to the bot's latest status).
        For ``mention`` this is :meth:`inject_mention` with ``text``.
        """
        if type == "mention":
            text = kw.pop("text", "")
            return self.inject_mention(text, **kw)
        with self._lock:
            now = self.now()
            created = kw.get("created_at") or now
            account = self._resident(
                kw.get("acct", "alice@other.example"),
                kw.get("display_name", "Alice"),
                bool(kw.get("bot", False)),
                kw.get("note", ""),
                created,
            )
            status: dict[str, Any] | None = None
            if type in STATUSES_WITH_STATUS:
                status_id = kw.get("status_id")
                if status_id is not None:
                    status = self._statuses_by_id.get(str(status_id))
                    if status is None:
                        raise KeyError(f"unknown status {status_id}")
                elif self.statuses:
                    status = self.statuses[-1]
                else:
                    status = self._create_bot_status("…", now, record=False)
                if type == "favourite":
                    status["favourites_count"] += 1
                elif type == "reblog":
                    status["reblogs_count"] += 1
            elif type == "follow":
                self._bot["followers_count"] += 1
            return self._add_notification(type, account, status, now, created)

    def edit_status(self, status_id: str, text: str) -> dict[str, Any]:
        """A resident edits a status: pushes ``event: status.update``; returns the status."""
        with self._lock:
            status = self._statuses_by_id[str(status_id)]
            if status["account"]["id"] == self._bot["id"]:
                status["content"] = text_to_html(text)
            elif any(m["id"] == self._bot["id"] for m in status["mentions"]):
                status["content"] = self._resident_content(text)
            else:
                status["content"] = text_to_html(text)
            status["edited_at"] = iso(self.now())
            self._publish("status.update", status)
            return status

    def inject_delete(self, status_id: str) -> None:
        """A status disappears: pushes ``event: delete``."""
        with self._lock:
            self._statuses_by_id.pop(str(status_id), None)
            self._publish_raw("delete", str(status_id))
