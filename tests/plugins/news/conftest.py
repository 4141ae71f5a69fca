"""Fixtures of the news tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from news_support import news_config, tiny_png

import civicbot_news
from civicbot import Bot
from civicbot.testing.webserver import FakeWebServer


@pytest.fixture
def web() -> Iterator[FakeWebServer]:
    with FakeWebServer() as server:
        server.add("/img/travaux.png", tiny_png(), "image/png")
        server.add("/img/conte.png", tiny_png(), "image/png")
        yield server


@pytest.fixture
def news_bot(civicbot_make_bot: Callable[..., Bot], web: FakeWebServer) -> Callable[..., Bot]:
    def make(path: str = "/feed.xml", **feed: Any) -> Bot:
        bot = civicbot_make_bot(plugins=[civicbot_news], config=news_config(web.url + path,
                                                                           **feed))
        bot.start()
        return bot

    return make
