"""The hooks a civicbot plugin can implement. This module is the plugin author's manual.

Every hook is named ``civicbot_*``. Implement one by decorating a function of the same name
with :data:`civicbot.hookimpl` in a module or class registered as a plugin. A plugin only
declares the arguments it uses: pluggy passes them by name. New arguments are only ever
added at the end, so a plugin written today keeps working.

Registration hooks (``civicbot_config_schema``, ``civicbot_register_jobs``,
``civicbot_register_commands``) receive a ``register`` callback instead of returning a list,
so that civicbot can reject a duplicate with an error naming both plugins.

All hooks are synchronous and run on civicbot's threads: do not make them ``async def``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pydantic import BaseModel

    from civicbot.bot import Bot
    from civicbot.channels import Channel
    from civicbot.commands import Command
    from civicbot.drafts import PostDraft
    from civicbot.jobs import Job

PROJECT_NAME = "civicbot"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def civicbot_config_schema(register: Callable[[str, type[BaseModel] | str], None]) -> None:
    """Declare the configuration section of a plugin and the pydantic model that validates it.

    Fires once, when the configuration is loaded (``civicbot check-config`` included), before
    any other hook. ``register(section, model)`` ties ``plugins.<section>`` in the YAML file to
    ``model``; errors are reported with the file, line and key path. Subclass
    :class:`civicbot.PluginConfig` so unknown keys are errors and ``*_file`` secrets work.
    Two plugins registering the same section is an error naming both.

    Example::

        class GreeterConfig(civicbot.PluginConfig):
            greeting: str = "Bonjour"

        @hookimpl
        def civicbot_config_schema(register):
            register("greeter", GreeterConfig)

    The validated section is then ``bot.plugin_config("greeter")`` (``None`` when the YAML
    file has no such section: a plugin without a section should do nothing).

    ``model`` may also be where to import it from, ``"package.module:Class"``: civicbot
    imports it only when the YAML file has the section, so a plugin that is installed but
    not configured costs no memory or start-up time for its model and what the model's
    module imports (``register("greeter", "greeter_plugin.config:GreeterConfig")``).
    """


@hookspec
def civicbot_register_jobs(register: Callable[[Job], None], bot: Bot) -> None:
    """Register scheduled jobs.

    Fires at start-up, after ``civicbot_startup``, and whenever the CLI lists, runs or previews
    jobs (``civicbot jobs``, ``run-job``, ``preview``). ``register(job)`` adds a
    :class:`civicbot.Job`; its id must be unique across plugins (a duplicate raises
    :class:`civicbot.errors.PluginError` naming both plugins). Jobs return the drafts to publish.

    Example::

        @hookimpl
        def civicbot_register_jobs(register, bot):
            def build(ctx):
                day = ctx.scheduled_time.date().isoformat()
                yield PostDraft(text="Bonjour Blois !", dedup_key=f"greeter:{day}")
            register(Job(id="bonjour", schedule=cron("0 8 * * *"), func=build))
    """


@hookspec
def civicbot_register_commands(register: Callable[[Command], None], bot: Bot) -> None:
    """Register mention commands answered by the auto-reply plugin ("agenda", "météo"...).

    Fires at start-up (and for ``civicbot plugins``). ``register(command)`` adds a
    :class:`civicbot.Command`; a name already taken raises an error naming both plugins.

    Example::

        @hookimpl
        def civicbot_register_commands(register, bot):
            register(Command(names=("piscine",), help="horaires de la piscine",
                             handler=lambda ctx: "La piscine ouvre à 9 h."))
    """


@hookspec
def civicbot_check_config(report: Callable[..., None], bot: Bot) -> None:
    """Report what the running bot would skip or fail on, for ``civicbot check-config``.

    Fires only in ``civicbot check-config``, after the jobs and commands were registered (no
    connection is made). The config is already valid; this hook is for what a model cannot
    see: a folder or a file that does not exist, a post file the daemon would skip, an image
    missing. ``report(message, key=(...), file=None, line=None)`` adds one problem: ``key`` is
    the path of the YAML key from the top of the file (``("plugins", "weather", "latitude")``),
    or ``file`` and ``line`` name another file. Any problem makes ``check-config`` exit 2.

    Example::

        @hookimpl
        def civicbot_check_config(report, bot):
            folder = bot.plugin_config("archive").folder
            if not folder.is_dir():
                report(f"{folder} does not exist: create it or fix the path",
                       key=("plugins", "archive", "folder"))
    """


@hookspec
def civicbot_register_channels(register: Callable[[Channel], None], bot: Bot) -> None:
    """Register a publishing channel besides Mastodon (Bluesky...).

    Fires once per account when the bot starts (and for ``civicbot preview``).
    ``register(channel)`` adds a :class:`civicbot.Channel` whose ``name`` is unique (a second
    channel of the same name raises an error naming both plugins; ``mastodon`` is taken). Drafts
    naming the channel (``PostDraft.channels``, a job's ``channels``, the config's top-level
    ``channels``) are adapted by it and queued in its own queue; Mastodon is never delayed by it.

    Example::

        @hookimpl
        def civicbot_register_channels(register, bot):
            section = bot.plugin_config("bluesky")
            if section is not None:
                register(BlueskyChannel(bot, section))
    """


@hookspec
def civicbot_startup(bot: Bot) -> None:
    """The bot is starting: the config is valid, the state store open, the account verified.

    Fires once per account, before jobs are scheduled and before the stream opens. Open
    resources here; an exception is logged and the plugin's other hooks still run.

    Example::

        @hookimpl
        def civicbot_startup(bot):
            bot.log.info("greeter ready", account=bot.account_acct)
    """


@hookspec
def civicbot_shutdown(bot: Bot) -> None:
    """The bot is stopping (SIGTERM, SIGINT, ``bot.stop()``). Fires once per account, after the
    stream closed and in-flight handlers finished. Close what ``civicbot_startup`` opened.

    Example::

        @hookimpl
        def civicbot_shutdown(bot):
            bot.log.info("greeter stopped")
    """


@hookspec
def civicbot_on_notification(bot: Bot, notification: dict[str, Any]) -> None:
    """A notification arrived (mention, favourite, follow, reblog, poll, update...).

    Fires once per notification, in id order, from the stream or from catch-up after a
    reconnect; ``notification`` is the Mastodon entity as plain JSON (a dict; dates are ISO
    8601 strings, HTML content as the server sent it). Each plugin is called in
    isolation: an exception is logged with its traceback and counted, other plugins still run.
    The notification cursor moves on only after every plugin returned, so after a crash a
    notification may be seen again: make side effects idempotent (dedup keys do that for posts).

    Example::

        @hookimpl
        def civicbot_on_notification(bot, notification):
            if notification["type"] == "follow":
                bot.log.info("new follower", acct=notification["account"]["acct"])
    """


@hookspec
def civicbot_on_mention(bot: Bot, status: dict[str, Any], notification: dict[str, Any]) -> None:
    """Someone mentioned the bot. Fires after ``civicbot_on_notification`` for notifications of
    type ``mention`` that are recent enough (``stream.max_mention_age``), with the status that
    mentions the bot. Same isolation and at-least-once rules as ``civicbot_on_notification``.

    Example::

        @hookimpl
        def civicbot_on_mention(bot, status, notification):
            if "bonjour" in status["content"].lower():
                bot.publish(PostDraft(
                    text=f"@{status['account']['acct']} Bonjour !",
                    dedup_key=f"greeter:reply:{status['id']}",
                    in_reply_to=status["id"], visibility="unlisted"))
    """


@hookspec
def civicbot_prepare_post(bot: Bot, draft: PostDraft) -> PostDraft | None:
    """A draft is about to be posted: edit it or veto it.

    Fires for every draft that goes through ``bot.publish`` (not in ``civicbot preview``),
    before the alt-text check and thread splitting. Implementations run in turn, each seeing the
    draft as the previous one left it; ``@hookimpl(trylast=True)`` sees the final draft. Return
    a changed copy (``draft.replace(...)``) or ``None`` to keep it; raise
    :class:`civicbot.PostVetoed` to stop it (the veto is logged with its reason). Any other
    exception also stops the draft: a broken filter never lets an unfiltered post through.

    Example::

        @hookimpl
        def civicbot_prepare_post(bot, draft):
            if "#Blois" not in draft.text:
                return draft.replace(text=draft.text + "\\n\\n#Blois")
            return None
    """


@hookspec
def civicbot_post_sent(bot: Bot, draft: PostDraft, status: dict[str, Any]) -> None:
    """A post was published (or found already published under its dedup key after a restart).

    Fires once per Mastodon status, thread parts included, with the draft of that part and the
    status entity returned by the server. Not called in dry-run mode.

    Example::

        @hookimpl
        def civicbot_post_sent(bot, draft, status):
            bot.log.info("posted", url=status["url"])
    """
