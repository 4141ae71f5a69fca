"""REST endpoints of the sandbox instance: scheduled statuses."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from civicbot.testing.sandbox_entities import iso, parse_iso, scheduled_status_entity
from civicbot.testing.sandbox_http import HttpRequest, Response
from civicbot.testing.sandbox_profiles import id_sort_key
from civicbot.testing.sandbox_state import SandboxState, error_response

__all__ = [
    "SCHEDULED_DAILY_LIMIT",
    "SCHEDULED_MIN_OFFSET",
    "SCHEDULED_TOTAL_LIMIT",
    "ScheduledRestMixin",
]

SCHEDULED_MIN_OFFSET = timedelta(minutes=5)
SCHEDULED_DAILY_LIMIT = 25
SCHEDULED_TOTAL_LIMIT = 300


class ScheduledRestMixin(SandboxState):
    """``/api/v1/scheduled_statuses``: scheduling limits, CRUD, and publishing when due."""

    def _check_schedule(
        self, when: datetime, now: datetime, exclude: str | None = None
    ) -> Response | None:
        if when - now < SCHEDULED_MIN_OFFSET:
            return error_response(
                422, "Validation failed: Scheduled at The scheduled date must be in the future"
            )
        others = [s for s in self.scheduled_statuses if s["id"] != exclude]
        if len(others) >= SCHEDULED_TOTAL_LIMIT:
            return error_response(
                422,
                f"Validation failed: You have exceeded the limit of {SCHEDULED_TOTAL_LIMIT} "
                "scheduled posts",
            )
        day = when.date()
        same_day = [s for s in others if parse_iso(s["scheduled_at"]).date() == day]
        if len(same_day) >= SCHEDULED_DAILY_LIMIT:
            return error_response(
                422,
                f"Validation failed: You have exceeded the limit of {SCHEDULED_DAILY_LIMIT} "
                "scheduled posts for today",
            )
        return None

    def _schedule(
        self,
        req: HttpRequest,
        now: datetime,
        key: str | None,
        text: str,
        spoiler: str,
        media: list[dict[str, Any]],
        media_ids: list[str],
        visibility: str,
        in_reply_to_id: str | None,
        language: str,
        sensitive: bool,
        scheduled_raw: str,
    ) -> Response:
        try:
            when = parse_iso(scheduled_raw)
        except ValueError:
            return error_response(422, "Validation failed: Scheduled at is invalid")
        error = self._check_schedule(when, now)
        if error is not None:
            return error
        params: dict[str, Any] = {
            "text": text,
            "quote_approval_policy": "public",
            "media_ids": media_ids or None,
            "sensitive": sensitive if "sensitive" in req.body else None,
            "spoiler_text": spoiler or None,
            "visibility": visibility if "visibility" in req.body else None,
            "language": language if "language" in req.body else None,
            "scheduled_at": None,
            "poll": None,
            "allowed_mentions": None,
            "idempotency": key,
            "with_rate_limit": False,
            "in_reply_to_id": in_reply_to_id,
            "application_id": 1,
            "quoted_status_id": None,
        }
        scheduled = scheduled_status_entity(
            scheduled_id=self._ids.scheduled(now),
            scheduled_at=when,
            params=params,
            media_attachments=media,
        )
        self.scheduled_statuses.append(scheduled)
        if key:
            self._idempotency[key] = (now, scheduled)
        return Response(200, scheduled)

    def publish_due_scheduled_statuses(self) -> list[dict[str, Any]]:
        """Publish the scheduled statuses whose time has come (per ``self.now()``)."""
        with self._lock:
            now = self.now()
            published = []
            for scheduled in list(self.scheduled_statuses):
                if parse_iso(scheduled["scheduled_at"]) > now:
                    continue
                self.scheduled_statuses.remove(scheduled)
                p = scheduled["params"]
                published.append(
                    self._create_bot_status(
                        p["text"],
                        now,
                        in_reply_to_id=p["in_reply_to_id"],
                        media=scheduled["media_attachments"],
                        sensitive=bool(p["sensitive"]),
                        spoiler_text=p["spoiler_text"] or "",
                        visibility=p["visibility"] or "public",
                        language=p["language"] or "fr",
                    )
                )
            return published

    # scheduled statuses

    def _find_scheduled(self, scheduled_id: str) -> dict[str, Any] | None:
        if not self.profile.lists_scheduled:
            return None  # snac: no GET, PUT nor DELETE of a scheduled status
        return next((s for s in self.scheduled_statuses if s["id"] == scheduled_id), None)

    def _list_scheduled(self, req: HttpRequest) -> Response:
        """Newest first, paginated with ``max_id`` and a ``Link: rel="next"`` header."""
        if not self.profile.lists_scheduled:
            return Response(200, [])  # snac: accepted, published at its time, never listed
        ordered = sorted(self.scheduled_statuses, key=lambda s: id_sort_key(s["id"]),
                         reverse=True)
        max_id = self._id_param(req, "max_id")
        if max_id is not None:
            ordered = [s for s in ordered if id_sort_key(s["id"]) < max_id]
        limit = self._limit(req, 20, 40)
        page = ordered[:limit]
        headers: dict[str, str] = {}
        if page and len(ordered) > limit:
            query = urlencode([("limit", str(limit)), ("max_id", page[-1]["id"])])
            headers["Link"] = f'<{self.url}/api/v1/scheduled_statuses?{query}>; rel="next"'
        return Response(200, page, headers)

    def _get_scheduled(self, req: HttpRequest, scheduled_id: str) -> Response:
        found = self._find_scheduled(scheduled_id)
        return Response(200, found) if found else error_response(404)

    def _put_scheduled(self, req: HttpRequest, scheduled_id: str) -> Response:
        found = self._find_scheduled(scheduled_id)
        if found is None:
            return error_response(404)
        raw = req.body.get("scheduled_at")
        if raw:
            try:
                when = parse_iso(str(raw))
            except ValueError:
                return error_response(422, "Validation failed: Scheduled at is invalid")
            error = self._check_schedule(when, self.now(), exclude=scheduled_id)
            if error is not None:
                return error
            found["scheduled_at"] = iso(when)
        return Response(200, found)

    def _delete_scheduled(self, req: HttpRequest, scheduled_id: str) -> Response:
        found = self._find_scheduled(scheduled_id)
        if found is None:
            return error_response(404)
        self.scheduled_statuses.remove(found)
        return Response(200, {})
