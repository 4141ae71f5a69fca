"""JSON entity builders for the sandbox Mastodon instance.

Every builder returns plain ``dict`` objects with exactly the keys and JSON types
that a real Mastodon 4.x server sends (see ``tests/fixtures/mastodon/``): ids are
strings, dates are ISO 8601 strings with milliseconds and ``Z``.
"""

from __future__ import annotations

import html
import re
import struct
import threading
import unicodedata
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "SUPPORTED_MIME_TYPES",
    "IdGenerator",
    "count_status_length",
    "iso",
    "iso_date",
    "parse_iso",
    "text_to_html",
]

SUPPORTED_MIME_TYPES: list[str] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/heic",
    "image/heif",
    "image/webp",
    "image/avif",
    "video/webm",
    "video/mp4",
    "video/quicktime",
    "video/ogg",
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/x-pn-wave",
    "audio/vnd.wave",
    "audio/ogg",
    "audio/vorbis",
    "audio/mpeg",
    "audio/mp3",
    "audio/webm",
    "audio/flac",
    "audio/aac",
    "audio/m4a",
    "audio/x-m4a",
    "audio/mp4",
    "audio/3gpp",
    "video/x-ms-asf",
]

VERSION = "4.6.4"
API_VERSION = 11


def iso(dt: datetime) -> str:
    """Format like Mastodon: ``2026-08-01T13:51:39.668Z`` (UTC, milliseconds)."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def iso_date(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d")


def parse_iso(value: str) -> datetime:
    """Parse the ISO 8601 strings clients send (``Z`` or offset; naive = UTC)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


class IdGenerator:
    """Snowflake-like ids: ``(milliseconds << 16) | sequence``, strictly increasing.

    They sort numerically and (having the same number of digits for centuries)
    by length then lexicographically, like Mastodon's.
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self, now: datetime) -> str:
        candidate = int(now.timestamp() * 1000) << 16
        with self._lock:
            value = max(candidate, self._last + 1)
            self._last = value
        return str(value)


# --- character counting (Mastodon's StatusLengthValidator) -------------------

URL_PLACEHOLDER_LENGTH = 23
_URL_RE = re.compile(r"(?<![\w/@])https?://[^\s<>\"]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\")]}"
MENTION_RE = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@([\w.-]+\w))?", re.IGNORECASE
)
HASHTAG_RE = re.compile(r"(?<![=/\w#])#(\w*[^\W\d_]\w*)")


_TOKEN_RE = re.compile(f"{_URL_RE.pattern}|{MENTION_RE.pattern}|{HASHTAG_RE.pattern}", re.I)


def _strip_url(url: str) -> str:
    while url and url[-1] in _URL_TRAILING:
        url = url[:-1]
    return url


def _grapheme_count(text: str) -> int:
    """Approximate Ruby's ``each_grapheme_cluster.size``."""
    count = 0
    join_next = False
    for char in text:
        if join_next:
            join_next = False
            continue
        if char == "\u200d":  # zero width joiner: glue the next code point
            join_next = True
            continue
        if unicodedata.combining(char) or "\ufe00" <= char <= "\ufe0f":
            continue
        if "\U0001f3fb" <= char <= "\U0001f3ff":  # skin tone modifiers
            continue
        count += 1
    return count


def count_status_length(text: str, spoiler_text: str = "") -> int:
    """Length as Mastodon counts it: URLs count 23, ``@user@domain`` counts as ``@user``."""

    def url_sub(match: re.Match[str]) -> str:
        url = match.group(0)
        stripped = _strip_url(url)
        return "x" * URL_PLACEHOLDER_LENGTH + url[len(stripped) :]

    countable = _URL_RE.sub(url_sub, text)
    countable = MENTION_RE.sub(lambda m: "@" + m.group(1), countable)
    return _grapheme_count(countable) + _grapheme_count(spoiler_text)


def text_to_html(text: str, *, mention_url: dict[str, str] | None = None) -> str:
    """Render plain status text like Mastodon's TextFormatter (simplified)."""
    mention_url = mention_url or {}
    paragraphs = re.split(r"\n\s*\n", text.strip("\n"))
    out: list[str] = []
    for para in paragraphs:
        pieces: list[str] = []
        pos = 0
        for m in _TOKEN_RE.finditer(para):
            token = m.group(0)
            if token.lower().startswith("http"):
                url = _strip_url(token)
                pieces.append(html.escape(para[pos : m.start()]))
                pieces.append(
                    f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener">'
                    f"{html.escape(url)}</a>"
                )
                pos = m.start() + len(url)
            elif token.startswith("@"):
                acct = token[1:]
                username = acct.split("@", 1)[0]
                href = mention_url.get(acct.lower())
                pieces.append(html.escape(para[pos : m.start()]))
                if href is None:
                    pieces.append(html.escape(token))
                else:
                    pieces.append(
                        f'<span class="h-card" translate="no"><a href="{html.escape(href)}" '
                        f'class="u-url mention">@<span>{html.escape(username)}</span></a></span>'
                    )
                pos = m.end()
            else:
                tag = token[1:]
                pieces.append(html.escape(para[pos : m.start()]))
                pieces.append(
                    f'<a href="/tags/{html.escape(tag.lower())}" class="mention hashtag" '
                    f'rel="tag">#<span>{html.escape(tag)}</span></a>'
                )
                pos = m.end()
        pieces.append(html.escape(para[pos:]))
        out.append("<p>" + "".join(pieces).replace("\n", "<br />") + "</p>")
    return "".join(out)


def extract_mentions(text: str) -> list[tuple[str, str, str | None]]:
    """``[(acct, username, domain)]`` for each ``@user`` / ``@user@domain`` in ``text``."""
    seen: set[str] = set()
    found: list[tuple[str, str, str | None]] = []
    for m in MENTION_RE.finditer(_URL_RE.sub(" ", text)):
        acct = m.group(1) + (f"@{m.group(2)}" if m.group(2) else "")
        if acct.lower() in seen:
            continue
        seen.add(acct.lower())
        found.append((acct, m.group(1), m.group(2)))
    return found


def extract_tags(text: str) -> list[str]:
    seen: list[str] = []
    for m in HASHTAG_RE.finditer(_URL_RE.sub(" ", text)):
        if m.group(1).lower() not in [t.lower() for t in seen]:
            seen.append(m.group(1))
    return seen


# --- entity builders -------------------------------------------------------------


def account_entity(
    *,
    account_id: str,
    username: str,
    acct: str,
    base_url: str,
    display_name: str = "",
    bot: bool = False,
    note: str = "",
    created_at: datetime,
    statuses_count: int = 0,
    last_status_at: str | None = None,
    locked: bool = False,
) -> dict[str, Any]:
    if "@" in acct:
        domain = acct.split("@", 1)[1]
        url = f"https://{domain}/@{username}"
        uri = f"https://{domain}/users/{username}"
        avatar = f"{base_url}/avatars/original/missing.png"
    else:
        url = f"{base_url}/@{username}"
        uri = f"{base_url}/users/{username}"
        avatar = f"{base_url}/avatars/original/missing.png"
    if note and "<" not in note:
        note = f"<p>{html.escape(note)}</p>"
    header = f"{base_url}/headers/original/missing.png"
    created = created_at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "id": account_id,
        "username": username,
        "acct": acct,
        "display_name": display_name,
        "locked": locked,
        "bot": bot,
        "discoverable": None,
        "indexable": False,
        "group": False,
        "created_at": iso(created),
        "note": note,
        "url": url,
        "uri": uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "avatar_description": "",
        "header": header,
        "header_static": header,
        "header_description": "",
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": statuses_count,
        "last_status_at": last_status_at,
        "hide_collections": False,
        "show_media": True,
        "show_media_replies": True,
        "show_featured": True,
        "noindex": False,
        "feature_approval": {"automatic": [], "manual": [], "current_user": "denied"},
        "emojis": [],
        "roles": [],
        "fields": [],
    }


def credential_account(account: dict[str, Any]) -> dict[str, Any]:
    """The ``verify_credentials`` shape: account + ``source`` + ``role``."""
    out = dict(account)
    out["source"] = {
        "privacy": "public",
        "sensitive": False,
        "language": None,
        "note": "",
        "fields": [],
        "follow_requests_count": 0,
        "hide_collections": None,
        "discoverable": None,
        "indexable": False,
        "attribution_domains": [],
        "quote_policy": "public",
    }
    out["role"] = {
        "id": "-99",
        "name": "",
        "permissions": "65536",
        "color": "",
        "highlighted": False,
        "collection_limit": 10,
    }
    return out


def status_entity(
    *,
    status_id: str,
    account: dict[str, Any],
    content: str,
    created_at: datetime,
    base_url: str,
    in_reply_to_id: str | None = None,
    in_reply_to_account_id: str | None = None,
    sensitive: bool = False,
    spoiler_text: str = "",
    visibility: str = "public",
    language: str | None = "fr",
    media_attachments: list[dict[str, Any]] | None = None,
    mentions: list[dict[str, Any]] | None = None,
    tags: list[str] | None = None,
    application: dict[str, Any] | None = None,
    own: bool = False,
) -> dict[str, Any]:
    if "@" in account["acct"]:
        uri = f"{account['uri']}/statuses/{status_id}"
        url = f"{account['url']}/{status_id}"
    else:
        uri = f"{base_url}/users/{account['username']}/statuses/{status_id}"
        url = f"{base_url}/@{account['username']}/{status_id}"
    status: dict[str, Any] = {
        "id": status_id,
        "created_at": iso(created_at),
        "in_reply_to_id": in_reply_to_id,
        "in_reply_to_account_id": in_reply_to_account_id,
        "sensitive": sensitive,
        "spoiler_text": spoiler_text,
        "visibility": visibility,
        "language": language,
        "uri": uri,
        "url": url,
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "quotes_count": 0,
        "edited_at": None,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
    }
    if own:
        status["pinned"] = False
    status.update(
        {
            "content": content,
            "filtered": [],
            "reblog": None,
            "application": application,
            "account": account,
            "media_attachments": media_attachments or [],
            "mentions": mentions or [],
            "tags": [
                {"name": t.lower(), "url": f"{base_url}/tags/{t.lower()}"} for t in tags or []
            ],
            "emojis": [],
            "tagged_collections": [],
            "quote": None,
            "card": None,
            "poll": None,
            "quote_approval": {
                "automatic": ["public"],
                "manual": [],
                "current_user": "automatic",
            },
        }
    )
    return status


def notification_entity(
    *,
    notification_id: str,
    type: str,
    account: dict[str, Any],
    created_at: datetime,
    status: dict[str, Any] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": notification_id,
        "type": type,
        "created_at": iso(created_at),
        "group_key": f"ungrouped-{notification_id}",
        "account": account,
    }
    if status is not None:
        out["status"] = status
    return out


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
            w, h = struct.unpack(">II", data[16:24])
            return int(w), int(h)
        if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
            w, h = struct.unpack("<HH", data[6:10])
            return int(w), int(h)
        if data[:2] == b"\xff\xd8":
            pos = 2
            while pos + 9 < len(data):
                if data[pos] != 0xFF:
                    pos += 1
                    continue
                marker = data[pos + 1]
                length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
                if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB):
                    h, w = struct.unpack(">HH", data[pos + 5 : pos + 9])
                    return int(w), int(h)
                pos += 2 + length
    except (struct.error, IndexError):
        return None
    return None


def media_type_for(mime: str) -> str:
    major = mime.split("/", 1)[0]
    if mime == "image/gif":
        return "gifv"
    if major in ("image", "video", "audio"):
        return major
    return "unknown"


def media_entity(
    *,
    media_id: str,
    base_url: str,
    filename: str,
    mime: str,
    data: bytes,
    description: str | None,
    focus: str | None = None,
) -> dict[str, Any]:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    path = f"{base_url}/system/media_attachments/files/{media_id}"
    size = _image_size(data) or (600, 600)
    w, h = size
    small_scale = min(1.0, 480 / max(w, h, 1))
    sw, sh = max(1, round(w * small_scale)), max(1, round(h * small_scale))
    meta: dict[str, Any] = {
        "original": {"width": w, "height": h, "size": f"{w}x{h}", "aspect": w / max(h, 1)},
        "small": {"width": sw, "height": sh, "size": f"{sw}x{sh}", "aspect": sw / max(sh, 1)},
    }
    if focus:
        try:
            fx, fy = (float(v) for v in focus.split(",", 1))
            meta["focus"] = {"x": fx, "y": fy}
        except ValueError:
            pass
    return {
        "id": media_id,
        "type": media_type_for(mime),
        "url": f"{path}/original/{media_id}.{ext}",
        "preview_url": f"{path}/small/{media_id}.{ext}",
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": description,
        "blurhash": "UGC~-#M{0JfkNFofR%M{IURj%Mt7E0oM%MR*",
    }


def scheduled_status_entity(
    *,
    scheduled_id: str,
    scheduled_at: datetime,
    params: dict[str, Any],
    media_attachments: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "id": scheduled_id,
        "scheduled_at": iso(scheduled_at),
        "params": params,
        "media_attachments": media_attachments,
    }


def instance_v1(
    *, domain: str, base_url: str, streaming_url: str, max_characters: int, stats: dict[str, int],
    version: str = VERSION,
) -> dict[str, Any]:
    return {
        "uri": domain,
        "title": "Sandbox",
        "short_description": "",
        "description": "civicbot sandbox instance",
        "email": "",
        "version": version,
        "urls": {"streaming_api": streaming_url},
        "stats": stats,
        "thumbnail": f"{base_url}/packs/media/images/preview.png",
        "languages": ["fr"],
        "registrations": False,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": {
            "accounts": {"max_featured_tags": 10},
            "statuses": {
                "max_characters": max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": URL_PLACEHOLDER_LENGTH,
            },
            "media_attachments": {
                "supported_mime_types": list(SUPPORTED_MIME_TYPES),
                "image_size_limit": 16777216,
                "image_matrix_limit": 33177600,
                "video_size_limit": 103809024,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2629746,
            },
        },
        "contact_account": None,
        "rules": [],
    }


def instance_v2(
    *, domain: str, base_url: str, streaming_url: str, max_characters: int, active_month: int,
    version: str = VERSION, source_url: str | None = "https://github.com/mastodon/mastodon",
) -> dict[str, Any]:
    icons = [
        {"src": f"{base_url}/packs/icons/android-chrome-{n}x{n}.png", "size": f"{n}x{n}"}
        for n in (36, 48, 72, 96, 144, 192, 256, 384, 512)
    ]
    live = {"local": "public", "remote": "public"}
    return {
        "domain": domain,
        "title": "Sandbox",
        "version": version,
        "source_url": source_url,
        "description": "civicbot sandbox instance",
        "usage": {"users": {"active_month": active_month}},
        "thumbnail": {
            "url": f"{base_url}/packs/media/images/preview.png",
            "description": "Sandbox thumbnail",
        },
        "icon": icons,
        "languages": ["fr"],
        "configuration": {
            "urls": {
                "streaming": streaming_url,
                "status": None,
                "about": f"{base_url}/about",
                "privacy_policy": f"{base_url}/privacy-policy",
                "terms_of_service": None,
            },
            "vapid": {"public_key": "BAhxXyHfAoMqrZECjRI56F5QrE4ynVlkZFMdKSpTIsWRNoWUVgut="},
            "accounts": {
                "max_display_name_length": 40,
                "max_note_length": 500,
                "max_avatar_description_length": 150,
                "max_header_description_length": 150,
                "max_featured_tags": 10,
                "max_pinned_statuses": 5,
                "max_profile_fields": 4,
                "profile_field_name_limit": 255,
                "profile_field_value_limit": 255,
            },
            "statuses": {
                "max_characters": max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": URL_PLACEHOLDER_LENGTH,
            },
            "media_attachments": {
                "description_limit": 1500,
                "image_matrix_limit": 33177600,
                "image_size_limit": 16777216,
                "supported_mime_types": list(SUPPORTED_MIME_TYPES),
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
                "video_size_limit": 103809024,
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2629746,
            },
            "translation": {"enabled": False},
            "timelines_access": {
                "live_feeds": dict(live),
                "hashtag_feeds": dict(live),
                "trending_link_feeds": dict(live),
            },
            "limited_federation": False,
        },
        "registrations": {
            "enabled": False,
            "approval_required": False,
            "reason_required": False,
            "message": None,
            "min_age": None,
            "url": None,
        },
        "api_versions": {"mastodon": API_VERSION},
        "wrapstodon": None,
        "contact": {"email": "", "account": None},
        "rules": [],
    }
