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
    from civicbot.config import AccountSettings, Config
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
            problems.extend(_unknown_channels(config, settings, bot.channel_names))
            for problem in bot.hooks.check_config(bot):
                problems.append(_format(problem, config, settings.yaml_path, dotted))
        finally:
            store.close()
    return list(dict.fromkeys(problems))  # one line per problem, whatever the accounts


def _unknown_channels(config: Config, settings: AccountSettings,
                      known: tuple[str, ...]) -> list[str]:
    """Every ``channels: [...]`` of the YAML this account reads (top level, the account's,
    its plugin sections' jobs) that names a channel no plugin adds."""
    from civicbot.yaml_source import dotted

    raw = config.raw if isinstance(config.raw, dict) else {}
    own: dict[str, object] = {}
    roots: list[tuple[tuple[str | int, ...], object]] = [(("channels",), raw.get("channels"))]
    if settings.yaml_path:
        account = raw.get("accounts", [])[settings.yaml_path[1]]
        own = account.get("plugins") or {} if isinstance(account, dict) else {}
        roots.append(((*settings.yaml_path, "channels"),
                      account.get("channels") if isinstance(account, dict) else None))
    for section in settings.plugins:
        if section in own:
            roots.append(((*settings.yaml_path, "plugins", section), own[section]))
        else:
            roots.append((("plugins", section), (raw.get("plugins") or {}).get(section)))
    found: list[str] = []

    def walk(path: tuple[str | int, ...], node: object) -> None:
        if path and path[-1] == "channels" and isinstance(node, list):
            for i, name in enumerate(node):
                if isinstance(name, str) and name not in known:
                    key = (*path, i)
                    found.append(f"{config.filename}:{config.line_of(key)}: {dotted(key)}: "
                                 f"unknown channel {name!r} (known: {', '.join(known)}); "
                                 "configure the plugin that adds it, or fix the name")
        elif isinstance(node, dict):
            for k, v in node.items():
                walk((*path, k), v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk((*path, i), v)

    for path, node in roots:
        walk(path, node)
    return found


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
