"""Posts from news items: the sandboxed template, hashtags, filters."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from civicbot import camel_hashtag, template_sandbox
from civicbot_news.config import FeedConfig, Filters
from civicbot_news.items import NewsItem

DEFAULT_TEMPLATES = {
    "fr": "📰 {{ title }}{% if summary %}\n\n{{ summary }}{% endif %}{% if link %}\n\n"
          "👉 {{ link }}{% endif %}",
    "en": "📰 {{ title }}{% if summary %}\n\n{{ summary }}{% endif %}{% if link %}\n\n"
          "👉 {{ link }}{% endif %}",
}


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import StrictUndefined

    # bounded: {{ 9**(9**9) }} or range(10**9) are template errors, not a frozen bot
    return template_sandbox(autoescape=False, undefined=StrictUndefined)


@lru_cache(maxsize=64)
def _compile(source: str) -> Any:
    return _environment().from_string(source)


def check_template(source: str) -> None:
    """Raise ValueError with the line when ``source`` is not a valid template."""
    from jinja2 import TemplateSyntaxError

    try:
        _compile(source)
    except TemplateSyntaxError as exc:
        raise ValueError(f"template error line {exc.lineno}: {exc.message}") from exc


def fold(text: str) -> str:
    """Lower case without accents, for comparing categories and keywords."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word before ``limit`` characters, with an ellipsis."""
    if limit <= 0:
        return ""
    text = re.sub(r"\s*\[(…|\.\.\.)\]\s*$", "", text).strip()  # WordPress's "[…]"
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.-–—")
    return f"{cut}…"


def passes(item: NewsItem, filters: Filters) -> bool:
    """True when the item is to be posted according to the feed's filters."""
    categories = {fold(c) for c in item.categories}
    if filters.include_categories and not categories & {fold(c) for c in filters.include_categories}:
        return False
    if categories & {fold(c) for c in filters.exclude_categories}:
        return False
    words = set(re.findall(r"\w+", fold(f"{item.title} {item.summary}")))

    def named(keyword: str) -> bool:
        wanted = re.findall(r"\w+", fold(keyword))
        return bool(wanted) and all(w in words for w in wanted)

    if filters.include_keywords and not any(named(k) for k in filters.include_keywords):
        return False
    return not any(named(k) for k in filters.exclude_keywords)


def hashtags(item: NewsItem, feed: FeedConfig) -> list[str]:
    tags = [camel_hashtag(t) for t in feed.hashtags]
    if feed.category_hashtags:
        added = 0
        for category in item.categories:
            if added >= feed.max_category_hashtags:
                break
            try:
                tag = camel_hashtag(category)
            except ValueError:  # a category without letters
                continue
            if tag not in tags:
                tags.append(tag)
                added += 1
    return list(dict.fromkeys(tags))


def post_text(item: NewsItem, feed: FeedConfig, language: str) -> str:
    source = feed.templates.post or DEFAULT_TEMPLATES.get(language, DEFAULT_TEMPLATES["en"])
    body = _compile(source).render(
        title=item.title, summary=shorten(item.summary, feed.summary_length), link=item.link or "",
        author=item.author or "", published=item.published, categories=list(item.categories),
        feed=feed.id,
    ).strip()
    tags = hashtags(item, feed)
    return f"{body}\n\n{' '.join(tags)}" if tags else body
