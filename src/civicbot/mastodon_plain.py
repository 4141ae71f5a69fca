"""Mastodon answers as plain JSON, through Mastodon.py's own request path.

Mastodon.py 2 builds typed entities from every answer: ~2 ms for an account, ~3 ms for the
instance document, ~5 ms per notification, on top of the request itself. A daemon that starts
hundreds of accounts, or catches up an outage, pays that for fields it never reads. The few
hot reads go through Mastodon.py's private ``__api_request`` instead (authentication, errors,
rate limits kept) and read the response's JSON; when a Mastodon.py version lays itself out
differently, the public method is called and its entity turned into plain JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mastodon import MastodonAPIError

__all__ = ["plain_get", "to_plain"]


def plain_get(client: Any, path: str, params: dict[str, Any] | None = None, *,
              public: Callable[[], Any]) -> Any:
    """``GET path`` as plain JSON (``public``: the same read through Mastodon.py's public
    method, used when its private request helper is not there)."""
    request = getattr(client, "_Mastodon__api_request", None)
    if request is not None:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        response = request("GET", path, query, return_response_object=True)
        try:
            return response.json()
        except ValueError as exc:  # a proxy's HTML page: the error Mastodon.py raises then
            raise MastodonAPIError(
                "Could not parse response as JSON, response code was "
                f"{response.status_code}, bad json content was {response.content[:200]!r}."
            ) from exc
    return to_plain(public())


def to_plain(entity: Any) -> Any:
    """Mastodon.py's typed entity -> plain JSON types (dates as ISO 8601 strings), so that
    plugins see the same shapes whether a notification came by stream or by REST."""
    if isinstance(entity, dict):
        return {str(k): to_plain(v) for k, v in entity.items()}
    if isinstance(entity, list | tuple):
        return [to_plain(v) for v in entity]
    if isinstance(entity, datetime):
        if entity.tzinfo is None:
            entity = entity.replace(tzinfo=UTC)
        return entity.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return entity
