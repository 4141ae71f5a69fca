"""The floor for ``bench/footprint.py``: a bare Mastodon.py bot, as its documentation suggests.

``stream_user`` with a :class:`mastodon.StreamListener` whose ``on_notification`` answers
mentions with ``status_reply`` — nothing else (no state, no catch-up, no scheduler).

Usage: ``python bench/bare_bot.py URL TOKEN [URL TOKEN ...]`` (one account per pair; with
several, each stream runs in its own thread, ``run_async=True``).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from mastodon import Mastodon, StreamListener

REPLY = ("Bonjour ! L'hôtel de ville est ouvert du lundi au vendredi de 8h30 à 17h, "
         "le samedi de 9h à 12h (état civil seulement).")


class Listener(StreamListener):  # type: ignore[misc]
    def __init__(self, api: Mastodon) -> None:
        self.api = api

    def on_notification(self, notification: Any) -> None:
        if notification.type == "mention":
            self.api.status_reply(notification.status, REPLY)


def main(argv: list[str]) -> int:
    pairs = list(zip(argv[0::2], argv[1::2], strict=True))
    apis = [Mastodon(access_token=token, api_base_url=url) for url, token in pairs]
    if len(apis) == 1:
        apis[0].stream_user(Listener(apis[0]))
        return 0
    for api in apis:
        api.stream_user(Listener(api), run_async=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
