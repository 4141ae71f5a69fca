"""What ``civicbot check-config`` checks beyond the models: everything the daemon would skip.

The config models catch wrong types and values with their line. Some problems only show when
the bot is built: a post file that will be skipped, a folder or an image that does not exist,
a schedule a third-party plugin built by hand. Each account's jobs and commands are built
without connecting, the plugins report through ``civicbot_check_config``, and every problem is
returned as ``file:line: key: message`` (``check-config`` prints them all and exits 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from civicbot.errors import ConfigError, PluginError

if TYPE_CHECKING:
    from civicbot.config import Config
    from civicbot.hooks import CheckProblem


def check_accounts(config: Config) -> list[str]:
    """Build every account's jobs and commands and collect the problems; raise
    :class:`ConfigError` for duplicate job ids or command names (they stop the bot)."""
    from civicbot.bot import Bot
    from civicbot.state import SQLiteStateStore
    from civicbot.triggers import build_trigger
    from civicbot.yaml_source import dotted

    problems: list[str] = []
    for settings in config.accounts:
        store = SQLiteStateStore(":memory:")
        bot = Bot.from_settings(settings, store=store)
        try:
            try:
                jobs = bot.hooks.jobs(bot)
                bot.hooks.commands(bot)
            except PluginError as exc:
                lines = _lines_of_value(config, str(exc).split("'")[1] if "'" in str(exc) else "")
                where = "; ".join(f"{config.filename}:{ln}: {path}" for path, ln in lines)
                raise ConfigError(f"{where or config.filename}: {exc}") from exc
            for job in jobs:
                try:
                    build_trigger(job.schedule, settings.timezone)
                except Exception as exc:
                    problems.append(f"{config.filename}: job {job.id!r} of plugin {job.plugin!r}"
                                    f" cannot be scheduled ({job.schedule.describe()}): {exc}")
            for problem in bot.hooks.check_config(bot):
                problems.append(_format(problem, config, settings.yaml_path, dotted))
        finally:
            store.close()
    return list(dict.fromkeys(problems))  # one line per problem, whatever the accounts


def _format(problem: CheckProblem, config: Config, prefix: tuple[str | int, ...],
            dotted: object) -> str:
    assert callable(dotted)
    if problem.file is not None:
        where = f"{problem.file}:{problem.line}" if problem.line else problem.file
        return f"{where}: {problem.message}"
    key = problem.key
    if prefix and (*prefix, *key) in config.lines:
        key = (*prefix, *key)
    line = config.line_of(key) if key else 1
    return f"{config.filename}:{line}: {dotted(key) if key else '(top level)'}: {problem.message}"


def _lines_of_value(config: Config, value: str) -> list[tuple[str, int]]:
    """Where a job id is written in the YAML (to point at duplicates)."""
    from civicbot.yaml_source import dotted

    found: list[tuple[str, int]] = []

    def walk(node: object, path: tuple[str | int, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "id" and v == value:
                    found.append((dotted((*path, k)), config.line_of((*path, k))))
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))

    walk(config.raw, ())
    return found
