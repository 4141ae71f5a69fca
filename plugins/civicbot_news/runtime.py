"""What the plugin keeps per bot: its config, its fetcher (with its conditional-request cache),
the folder of downloaded images, failure counts."""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter
from pathlib import Path
from typing import cast

from civicbot import Bot, Fetcher, FetchError, PerBot
from civicbot_news.config import LANGUAGES, FeedConfig, NewsConfig

NAME = "news"
#: Image types accepted, by their first bytes (the file is checked, not its name).
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"GIF87a", ".gif"),
               (b"GIF89a", ".gif"))


def image_suffix(content: bytes) -> str | None:
    """The file suffix of a PNG, JPEG, GIF or WebP image, or None for anything else."""
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return ".webp"
    return next((suffix for magic, suffix in _SIGNATURES if content.startswith(magic)), None)


class Runtime:
    def __init__(self, bot: Bot, config: NewsConfig) -> None:
        self.bot = bot
        self.config = config
        self.log = bot.log.bind(plugin=NAME)
        self.language = config.language or (bot.language if bot.language in LANGUAGES else "fr")
        self.fetcher = Fetcher(timeout=config.timeout, max_bytes=config.max_feed_bytes,
                               user_agent=config.user_agent, log=self.log)
        self.images = Fetcher(timeout=config.timeout, max_bytes=config.max_image_bytes,
                              user_agent=config.user_agent, log=self.log)
        self.failures: Counter[str] = Counter()
        self.media_dir = Path(tempfile.gettempdir()) / "civicbot-news" / bot.name

    def language_of(self, feed: FeedConfig) -> str:
        return feed.language or self.language

    def download_image(self, url: str) -> Path | None:
        """The image downloaded into the media folder, or None (logged) when it cannot be."""
        name = hashlib.sha256(url.encode()).hexdigest()[:32]
        for existing in self.media_dir.glob(f"{name}.*") if self.media_dir.exists() else []:
            return existing
        try:
            result = self.images.fetch(url, conditional=False)
        except FetchError as exc:
            self.log.warning("news image not downloaded; posted without it", error=str(exc))
            return None
        suffix = image_suffix(result.content)
        if suffix is None:
            self.log.warning("news image is not a PNG, JPEG, GIF or WebP; posted without it",
                             url=url.split("?", 1)[0])
            return None
        self.media_dir.mkdir(parents=True, exist_ok=True)
        path = self.media_dir / f"{name}{suffix}"
        partial = path.with_suffix(".part")
        partial.write_bytes(result.content)
        partial.replace(path)
        return path

    def close(self) -> None:
        self.fetcher.close()
        self.images.close()


_RUNTIMES: PerBot[Runtime] = PerBot(
    NAME, lambda bot, config: Runtime(bot, cast(NewsConfig, config)))
#: The bot's runtime, or None when the config has no ``news`` section.
runtime_for = _RUNTIMES.get
#: Forget the bot's runtime and close its fetchers (``civicbot_shutdown``).
drop_runtime = _RUNTIMES.drop
