"""REST endpoints of the sandbox instance: statuses and media."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from typing import Any

from civicbot.testing.sandbox_entities import count_status_length, iso, media_entity, text_to_html
from civicbot.testing.sandbox_http import HttpRequest, Response
from civicbot.testing.sandbox_profiles import id_sort_key
from civicbot.testing.sandbox_rest_scheduled import ScheduledRestMixin
from civicbot.testing.sandbox_state import as_list, error_response, truthy

__all__ = ["IDEMPOTENCY_TTL", "StatusesRestMixin"]

IDEMPOTENCY_TTL = timedelta(hours=1)


class StatusesRestMixin(ScheduledRestMixin):
    """``/api/v1/statuses`` (post, edit, delete, context, pin) and ``/api/v1/media``."""

    # statuses

    def _validate_text(
        self, text: str, spoiler: str, media: list[str], poll: Any = None
    ) -> Response | None:
        if not text.strip() and not media and not poll:
            return error_response(422, "Validation failed: Text can't be blank")
        if count_status_length(text, spoiler) > self.max_characters:
            return error_response(
                422, f"Validation failed: Text character limit of {self.max_characters} exceeded"
            )
        return None

    def _resolve_media(self, ids: list[str]) -> tuple[list[dict[str, Any]], Response | None]:
        if len(ids) > 4:
            return [], error_response(422, "Cannot attach more than 4 files")
        found = []
        for media_id in ids:
            media = self.media.get(str(media_id))
            if media is None:
                return [], error_response(
                    422, f"Media {media_id} not found or already attached to another post"
                )
            found.append(media)
        return found, None

    def _post_status(self, req: HttpRequest) -> Response:
        body = req.body
        now = self.now()
        key = req.headers.get("Idempotency-Key")
        if not self.profile.honours_idempotency:
            key = None  # GoToSocial and snac ignore the header: a resend posts again
        if key:
            self._idempotency = {
                k: v for k, v in self._idempotency.items() if now - v[0] < IDEMPOTENCY_TTL
            }
            if key in self._idempotency:
                return Response(200, self._idempotency[key][1])
        text = str(body.get("status") or "")
        spoiler = str(body.get("spoiler_text") or "")
        media_ids = [str(m) for m in as_list(body.get("media_ids")) if str(m)]
        poll = body.get("poll")
        if poll and self.profile.refuses_string_sensitive_with_poll and isinstance(
                body.get("sensitive"), str):
            # GoToSocial reads JSON strictly: Mastodon.py 2.3.3 sends sensitive "0" with a poll
            return error_response(400, "Bad Request: sensitive: cannot unmarshal string into "
                                  "Go value of type bool")
        error = self._validate_text(text, spoiler, media_ids, poll)
        if error is not None:
            return error
        media, error = self._resolve_media(media_ids)
        if error is not None:
            return error
        visibility = str(body.get("visibility") or self.profile.default_visibility)
        if visibility not in ("public", "unlisted", "private", "direct"):
            return error_response(422, "Validation failed: Visibility is not included in the list")
        in_reply_to_id = body.get("in_reply_to_id")
        in_reply_to_id = str(in_reply_to_id) if in_reply_to_id not in (None, "") else None
        if in_reply_to_id is not None and in_reply_to_id not in self._statuses_by_id:
            return error_response(404, "The post you are trying to reply to does not appear to exist.")
        language = str(body.get("language") or "fr")
        sensitive = truthy(body.get("sensitive"))
        scheduled_raw = body.get("scheduled_at")
        if scheduled_raw:
            return self._schedule(
                req,
                now,
                key,
                text,
                spoiler,
                media,
                media_ids,
                visibility,
                in_reply_to_id,
                language,
                sensitive,
                str(scheduled_raw),
            )
        status = self._create_bot_status(
            text,
            now,
            in_reply_to_id=in_reply_to_id,
            media=media,
            sensitive=sensitive or bool(spoiler),
            spoiler_text=spoiler,
            visibility=visibility,
            language=language,
        )
        if key:
            self._idempotency[key] = (now, status)
        return Response(200, status)

    def _get_status(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        return Response(200, status) if status else error_response(404)

    def _put_status(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        if status is None or status["account"]["id"] != self._bot["id"]:
            return error_response(404)
        text = str(req.body.get("status") or "")
        spoiler = str(req.body.get("spoiler_text") or "")
        error = self._validate_text(text, spoiler, [m["id"] for m in status["media_attachments"]])
        if error is not None:
            return error
        status["content"] = text_to_html(text)
        status["spoiler_text"] = spoiler
        status["edited_at"] = iso(self.now())
        self._publish("status.update", status)
        return Response(200, status)

    def _delete_status(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        if status is None:
            return error_response(404)
        if status["account"]["id"] != self._bot["id"]:
            return error_response(403, "This action is not allowed")
        del self._statuses_by_id[status_id]
        if status in self.statuses:
            self.statuses.remove(status)
        self.deleted_statuses.append(status)
        self._bot["statuses_count"] = max(0, self._bot["statuses_count"] - 1)
        self._publish_raw("delete", status_id)
        out = copy.deepcopy(status)
        out["text"] = re.sub(r"<[^>]+>", "", status["content"])
        return Response(200, out)

    def _status_context(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        if status is None:
            return error_response(404)
        ancestors: list[dict[str, Any]] = []
        parent_id = status["in_reply_to_id"]
        while parent_id and parent_id in self._statuses_by_id and len(ancestors) < 40:
            parent = self._statuses_by_id[parent_id]
            ancestors.insert(0, parent)
            parent_id = parent["in_reply_to_id"]
        descendants: list[dict[str, Any]] = []
        frontier = [status_id]
        while frontier:
            children = [s for s in self._statuses_by_id.values() if s["in_reply_to_id"] in frontier]
            children.sort(key=lambda s: id_sort_key(s["id"]))
            descendants.extend(children)
            frontier = [c["id"] for c in children]
        return Response(200, {"ancestors": ancestors, "descendants": descendants})

    def _pin(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        if status is None or "pinned" not in status:
            return error_response(404)
        pinned = [s for s in self.statuses if s.get("pinned")]
        if not status["pinned"] and len(pinned) >= 5:
            return error_response(
                422, "Validation failed: You have already pinned the maximum number of posts"
            )
        status["pinned"] = True
        return Response(200, status)

    def _unpin(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        if status is None or "pinned" not in status:
            return error_response(404)
        status["pinned"] = False
        return Response(200, status)

    # media

    def _post_media(self, req: HttpRequest) -> Response:
        upload = req.files.get("file")
        if upload is None:
            return error_response(422, "Validation failed: File can't be blank")
        description = req.body.get("description")
        now = self.now()
        media_id = self._ids.media(now, upload.data, upload.filename or "file")
        mime = upload.content_type or "application/octet-stream"
        entity = media_entity(
            media_id=media_id,
            base_url=self.url,
            filename=upload.filename or "file",
            mime=mime,
            data=upload.data,
            description=str(description) if description is not None else None,
            focus=str(req.body["focus"]) if req.body.get("focus") else None,
        )
        self.media[media_id] = entity
        self.media_files[media_id] = upload.data
        return Response(200, entity)

    def _get_media(self, req: HttpRequest, media_id: str) -> Response:
        media = self.media.get(media_id)
        return Response(200, media) if media else error_response(404)

    def _put_media(self, req: HttpRequest, media_id: str) -> Response:
        media = self.media.get(media_id)
        if media is None:
            return error_response(404)
        if "description" in req.body:
            media["description"] = req.body["description"]
        return Response(200, media)

    def _media_file(self, req: HttpRequest, media_id: str) -> Response:
        data = self.media_files.get(media_id)
        if data is None:
            return error_response(404)
        return Response(200, data, content_type="application/octet-stream")
