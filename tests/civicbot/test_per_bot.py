"""civicbot.PerBot: one runtime per bot, rebuilt when the section changes, closed on drop."""

from __future__ import annotations

from typing import Any

from civicbot import PerBot


class _Bot:
    def __init__(self, sections: dict[str, Any]) -> None:
        self.sections = sections

    def plugin_config(self, section: str) -> Any:
        return self.sections.get(section)


class _Runtime:
    def __init__(self, bot: Any, config: Any) -> None:
        self.bot, self.config, self.closed = bot, config, False

    def close(self) -> None:
        self.closed = True


def test_one_runtime_per_bot_rebuilt_when_the_section_changes_and_closed_on_drop() -> None:
    runtimes: PerBot[_Runtime] = PerBot("news", _Runtime)
    first, second, without = _Bot({"news": object()}), _Bot({"news": object()}), _Bot({})
    assert runtimes.get(without) is None
    one = runtimes.get(first)
    assert one is not None and runtimes.get(first) is one
    assert runtimes.get(second) is not one
    first.sections["news"] = object()  # the config was reloaded
    again = runtimes.get(first)
    assert again is not one and again is not None and again.config is first.sections["news"]
    runtimes.drop(first)
    assert again.closed and not one.closed
    runtimes.drop(first)  # twice: nothing to close
    assert runtimes.get(first) is not again
