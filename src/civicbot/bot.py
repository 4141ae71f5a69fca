"""The :class:`Bot`: one Mastodon account, its plugins, its jobs, its stream, its posts."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from mastodon import Mastodon
from pydantic import BaseModel, SecretStr

from civicbot.channels import MASTODON
from civicbot.commands import Command
from civicbot.config import SANDBOX, AccountSettings, config_from_mapping, load_config
from civicbot.drafts import PostDraft, Visibility
from civicbot.errors import AuthenticationError, ConfigError, PublishError
from civicbot.hooks import Hooks
from civicbot.jobs import Job
from civicbot.mastodon_plain import plain_get
from civicbot.plugins import CivicbotPluginManager, make_plugin_manager
from civicbot.publisher import Publisher, PublishResult
from civicbot.server import ServerInfo
from civicbot.state import AccountState, SQLiteStateStore, StateStore, open_state_store

if TYPE_CHECKING:
    from civicbot.channels import ChannelRelay
    from civicbot.scheduler import JobScheduler
    from civicbot.stream import StreamSupervisor
    from civicbot.testing.sandbox import SandboxInstance

_VISIBILITY_ORDER: dict[str, int] = {"direct": 0, "private": 1, "unlisted": 2, "public": 3}


def narrowest(a: str, b: str) -> Visibility:
    """The narrower of two visibilities (a reply is never wider than the mention)."""
    return a if _VISIBILITY_ORDER.get(a, 0) <= _VISIBILITY_ORDER.get(b, 0) else b  # type: ignore[return-value]


def secret_values(value: Any) -> list[str]:
    """Every :class:`pydantic.SecretStr` value found in a config model (recursively)."""
    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    if isinstance(value, BaseModel):
        return [s for name in type(value).model_fields for s in secret_values(getattr(value, name))]
    if isinstance(value, Mapping):
        return [s for item in value.values() for s in secret_values(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in secret_values(item)]
    return []


def _password(settings: AccountSettings) -> str | None:
    secret = settings.core.state_password
    return secret.get_secret_value() if secret is not None else None


class Bot:
    """A bot for one account.

    Build it from a YAML file with :meth:`from_config`, or directly::

        bot = Bot("https://mastodon.example", access_token="...", plugins=[MyPlugin()],
                  config={"language": "fr", "plugins": {"weather": {...}}})
        bot.run()          # blocks until SIGTERM/SIGINT (CLI) or bot.stop()

    Plugins get the bot in every hook and use its small facade: :meth:`publish`, :meth:`reply`,
    :attr:`state`, :meth:`plugin_config`, :attr:`log`, :meth:`now`.
    """

    def __init__(
        self,
        api_base_url: str = SANDBOX,
        access_token: str | None = None,
        *,
        plugins: Iterable[Any] = (),
        config: Mapping[str, Any] | None = None,
        state: str | Path | StateStore = ":memory:",
        load_entry_points: bool = False,
        dry_run: bool = False,
    ) -> None:
        raw: dict[str, Any] = dict(config or {})
        mastodon = dict(raw.pop("mastodon", {}) or {})
        mastodon.setdefault("api_base_url", api_base_url)
        if access_token is not None:
            mastodon["access_token"] = access_token
        raw["mastodon"] = mastodon
        store = state if isinstance(state, StateStore) else None
        if store is None:
            raw.setdefault("state", str(state))
        pm = make_plugin_manager(load_entry_points=load_entry_points,
                                 disabled=raw.get("disable_plugins", ()), plugins=plugins)
        settings = config_from_mapping(raw, pm=pm).account()
        self._setup(settings, pm, store, dry_run=dry_run or settings.core.dry_run)

    @classmethod
    def from_config(
        cls,
        path: str | Path,
        *,
        plugins: Iterable[Any] = (),
        account: str | None = None,
        dry_run: bool | None = None,
        load_entry_points: bool = True,
        store: StateStore | None = None,
    ) -> Bot:
        """Build the bot described by a YAML file (raises :class:`civicbot.ConfigError`)."""
        pm = make_plugin_manager(load_entry_points=load_entry_points, plugins=plugins)
        config = load_config(path, pm=pm)
        settings = config.account(account)
        return cls.from_settings(settings, plugins=plugins, dry_run=dry_run,
                                 load_entry_points=load_entry_points, store=store)

    @classmethod
    def from_settings(
        cls,
        settings: AccountSettings,
        *,
        plugins: Iterable[Any] = (),
        dry_run: bool | None = None,
        load_entry_points: bool = True,
        store: StateStore | None = None,
    ) -> Bot:
        """Build the bot of one account of a validated :class:`civicbot.config.Config`."""
        pm = make_plugin_manager(load_entry_points=load_entry_points, plugins=plugins,
                                 disabled=settings.disable_plugins)
        bot = cls.__new__(cls)
        bot._setup(settings, pm, store,
                   dry_run=settings.core.dry_run if dry_run is None else dry_run)
        return bot

    def _setup(self, settings: AccountSettings, pm: CivicbotPluginManager,
               store: StateStore | None, *, dry_run: bool) -> None:
        from civicbot.logging import REDACTOR, ensure_logging

        ensure_logging(settings.core.log.format, settings.core.log.level)
        # every secret of the config (the token, plugins' API keys) is masked in every log line
        REDACTOR.add(*secret_values(settings.mastodon), *secret_values(settings.plugins))
        self.settings = settings
        self.name = settings.name
        self.pm = pm
        self.dry_run = dry_run
        self.log = structlog.get_logger("civicbot").bind(account=self.name)
        self.hooks = Hooks(pm, self.log)
        self._owns_store = store is None
        if store is None:
            # a dry run never touches the real state: it works on a throw-away copy in memory
            store = (SQLiteStateStore(":memory:") if dry_run else
                     open_state_store(settings.core.state, password=_password(settings)))
        self.state = AccountState(store, self.name)
        self.sandbox: SandboxInstance | None = None
        self._client: Mastodon | None = None
        self.publisher = Publisher(self, self.client_factory,
                                   max_attempts=settings.mastodon.max_attempts)
        self._lazy_lock = threading.RLock()
        self._scheduler: JobScheduler | None = None
        self._relay: ChannelRelay | None = None
        self._commands: list[Command] | None = None
        self.stream: StreamSupervisor | None = None
        self.account: dict[str, Any] = {}
        self._paused_seen: bool | None = None
        self.started_at: float | None = None
        self._stop_requested = threading.Event()
        self._started = False
        self._stopped = threading.Event()
        #: Things worth a metric that have no counter of their own (``civicbot_events_total``).
        self.events: Counter[str] = Counter()

    # -- facade for plugins -------------------------------------------------------------------
    def count(self, event: str, n: int = 1) -> None:
        """Count an event (a mention skipped, a reply shed...): exported by ``/metrics`` as
        ``civicbot_events_total{account, event}``. Example: ``bot.count("auto_reply.slow")``."""
        self.events[event] += n

    @property
    def language(self) -> str:
        return self.settings.language

    @property
    def timezone(self) -> Any:
        return self.settings.timezone

    def now(self) -> datetime:
        """The current time in the bot's time zone (fake time in tests follows time-machine)."""
        return datetime.now(self.settings.timezone)

    def plugin_config(self, section: str) -> BaseModel | None:
        """The validated config section ``plugins.<section>``, or ``None`` when absent."""
        return self.settings.plugins.get(section)

    @property
    def account_acct(self) -> str:
        """The bot's own ``user`` name (from ``verify_credentials``), once started."""
        return str(self.account.get("acct") or self.account.get("username") or "")

    @property
    def server(self) -> ServerInfo:
        """What the account's server supports (software, idempotency, native scheduling,
        character limit, streaming), read once from the instance documents."""
        return self.publisher.server

    def own_accts(self) -> set[str]:
        """Every way the server writes the bot's own name, case-folded: ``bot`` (as
        ``verify_credentials`` says), ``bot@host``, ``bot@host:port`` (snac, in statuses and
        notifications)."""
        username = str(self.account.get("username") or self.account_acct.partition("@")[0])
        if not username:
            return set()
        from urllib.parse import urlsplit

        names = {username, self.account_acct}
        parts = urlsplit(self.settings.mastodon.api_base_url)
        for host in (parts.netloc, parts.hostname):
            if host:
                names.add(f"{username}@{host}")
        return {n.casefold() for n in names if n}

    def is_own_account(self, account: Mapping[str, Any]) -> bool:
        """True for the bot's own account, by id or by any form of its name."""
        own_id = self.account.get("id")
        if own_id is not None and str(account.get("id")) == str(own_id):
            return True
        return str(account.get("acct") or "").lstrip("@").casefold() in self.own_accts()

    @property
    def paused(self) -> bool:
        """While paused (admin "pause" command), automatic posts and replies are dropped."""
        return bool(self.state.namespace("core").get("paused", False))

    def set_paused(self, paused: bool, by: str = "") -> None:
        self._paused_seen = paused
        self.state.namespace("core").set("paused", paused)
        # who and when, shown by the desk next to its pause switch
        self.state.namespace("core").set("pause_info", {
            "by": by, "at": self.now().isoformat(timespec="minutes")})
        self.log.warning("bot paused" if paused else "bot resumed", by=by)

    def notice_pause_flag(self, paused: bool | None = None) -> None:
        """Log a pause or a resume written by another process (``civicbot pause``), which
        this bot obeys already: the log says when it happened and who did it. ``paused``:
        the flag as just read by the caller (else it is read here)."""
        paused = self.paused if paused is None else paused
        seen, self._paused_seen = self._paused_seen, paused
        if seen is not None and seen != paused:
            by = self.state.namespace("core").get("paused_by", "") or "another process"
            self.log.warning("bot paused" if paused else "bot resumed", by=by)

    def publish(self, *drafts: PostDraft, dry_run: bool | None = None) -> list[PublishResult]:
        """Publish drafts in order (a thread when they chain with ``in_reply_to=PREVIOUS``)
        on Mastodon, and queue them for the other channels they name (sent in the
        background: another channel never delays Mastodon)."""
        dry = self.dry_run if dry_run is None else dry_run
        relay = self.channel_relay
        if relay is None:
            return self.publisher.publish(drafts, dry_run=dry)
        if not dry:
            # while paused, automatic posts are dropped on every channel, as on Mastodon
            # (never queued to go out after "resume")
            paused = self.paused
            relay.enqueue([d for d in drafts if d.ignore_pause or not paused])
        mastodon = [d for d in drafts if MASTODON in relay.targets(d)]
        sent = iter(self.publisher.publish(mastodon, dry_run=dry) if mastodon else [])
        return [next(sent) if MASTODON in relay.targets(d) else
                PublishResult(draft=d, skipped="not for mastodon") for d in drafts]

    @property
    def channel_names(self) -> tuple[str, ...]:
        """``mastodon`` and the channels the plugins add (what ``channels: [...]`` may name)."""
        relay = self._relay
        if relay is not None:
            return (MASTODON, *relay.channels)
        return (MASTODON, *(channel.name for channel in self.hooks.channels(self)))

    @property
    def channel_relay(self) -> ChannelRelay | None:
        """The queues of the other channels (None when no plugin adds a channel and the
        config names only ``mastodon``)."""
        with self._lazy_lock:
            if self._relay is None:
                channels = {c.name: c for c in self.hooks.channels(self)}
                unknown = [n for n in self.settings.channels if n != MASTODON
                           and n not in channels]
                if unknown:
                    raise ConfigError([f"channels: unknown channel {', '.join(unknown)} (known: "
                                       f"{', '.join([MASTODON, *channels])}); configure the "
                                       "plugin that adds it"])
                if not channels:
                    return None
                from civicbot.channels import ChannelRelay

                self._relay = ChannelRelay(self, channels, self.settings.channels)
            return self._relay

    def reply(
        self,
        status: Mapping[str, Any],
        text: str,
        *,
        dedup_key: str | None = None,
        visibility: Visibility | None = None,
        language: str | None = None,
        ignore_pause: bool = False,
    ) -> PublishResult:
        """Answer a status: mention only its author, never wider than its visibility, and
        with a dedup key derived from the status id (so it is answered once)."""
        acct = str(status["account"]["acct"])
        wanted = visibility or str(status.get("visibility") or "public")
        draft = PostDraft(
            text=f"@{acct} {text}",
            dedup_key=dedup_key or f"reply:{status['id']}",
            visibility=narrowest(wanted, str(status.get("visibility") or "public")),
            in_reply_to=str(status["id"]),
            language=language,
            ignore_pause=ignore_pause,
            priority="reply",
            channels=(MASTODON,),  # residents' conversations stay on Mastodon
        )
        return self.publish(draft)[0]

    # -- jobs and commands ---------------------------------------------------------------------
    @property
    def scheduler(self) -> JobScheduler:
        """The account's jobs (built on first use, once, whichever thread asks first)."""
        with self._lazy_lock:
            if self._scheduler is None:
                from civicbot.scheduler import JobScheduler

                self._scheduler = JobScheduler(self, self.hooks.jobs(self))
            return self._scheduler

    @property
    def jobs(self) -> dict[str, Job]:
        return self.scheduler.jobs

    @property
    def commands(self) -> list[Command]:
        """Commands registered by every plugin (``civicbot_register_commands``)."""
        with self._lazy_lock:
            if self._commands is None:
                self._commands = self.hooks.commands(self)
            return self._commands

    # -- the Mastodon client ------------------------------------------------------------------
    def client_factory(self) -> Mastodon:
        """The publisher's client (one per bot, built on first use)."""
        with self._lazy_lock:
            if self._client is None:
                self._client = self.new_client()
            return self._client

    def new_client(self) -> Mastodon:
        """A new Mastodon.py client for this account: the stream gets its own, so that its
        HTTP session and Mastodon.py's rate-limit bookkeeping are never shared between
        threads with the publisher's."""
        with self._lazy_lock:
            cfg = self.settings.mastodon
            url, token = cfg.api_base_url, cfg.access_token
            token_value: str | None
            if url == SANDBOX:
                sandbox = self._ensure_sandbox()
                url, token_value = sandbox.url, sandbox.access_token
            else:
                token_value = token.get_secret_value() if token else None
            return Mastodon(
                access_token=token_value, api_base_url=url, ratelimit_method="throw",
                request_timeout=cfg.request_timeout.total_seconds(), user_agent=cfg.user_agent,
                version_check_mode="none",
            )

    def _ensure_sandbox(self) -> SandboxInstance:
        if self.sandbox is None:
            from civicbot.testing.sandbox import SandboxInstance

            self.sandbox = SandboxInstance().start()
            self.log.info("embedded sandbox instance started", url=self.sandbox.url)
        return self.sandbox

    @property
    def client(self) -> Mastodon:
        return self.client_factory()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Verify the account, resend pending posts, start plugins, jobs and the stream.

        Returns at once; the work happens on background threads. Raises
        :class:`AuthenticationError` when the token is refused.
        """
        if self._started:
            return
        self._started = True
        self.started_at = time.monotonic()
        self.account = self._verify_credentials()
        self.log = self.log.bind(acct=self.account_acct)
        self._log_server()
        if not self.dry_run:
            self.publisher.resend_pending()
        self.hooks.startup(self)
        relay = self.channel_relay
        if relay is not None and not self.dry_run:
            relay.start()
        self.scheduler.start()
        from civicbot.stream import StreamSupervisor

        self.stream = StreamSupervisor(self)
        self.stream.start()
        self.log.info("bot started", dry_run=self.dry_run, jobs=len(self.jobs))

    def _log_server(self) -> None:
        """Say at start what the server supports and what civicbot does about it."""
        try:
            info = self.server.describe()
            info["max_characters"] = self.publisher.max_characters
        except Exception as exc:  # never prevent a start
            self.log.warning("could not read what the server supports", error=str(exc))
            return
        self.log.info("server capabilities", **{k: v for k, v in info.items()
                                                 if k != "streaming"})
        if not self.server.native_scheduling:
            self.log.info("native scheduling off: the server cannot list the posts it holds; "
                          "posts are scheduled locally", software=self.server.software)
        self.state.namespace("core").set("server", info)

    def _verify_credentials(self) -> dict[str, Any]:
        try:
            client = self.client  # plain JSON, as plugins get notifications
            account = self.publisher._call(lambda: plain_get(
                client, "/api/v1/accounts/verify_credentials",
                public=client.account_verify_credentials))
        except PublishError as exc:
            self.log.warning("instance unreachable at start; going on", error=str(exc))
            return {}
        except AuthenticationError:
            raise
        except Exception as exc:  # the instance answered something unexpected
            raise AuthenticationError(f"could not verify the account: {exc}") from exc
        return dict(account)

    def request_stop(self) -> None:
        """Ask :meth:`run` to return (safe from signal handlers and other threads)."""
        self._stop_requested.set()

    def stop(self) -> None:
        """Stop the stream, finish in-flight handlers, stop jobs, run shutdown hooks."""
        self._stop_requested.set()
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.publisher.stop()
        if self._relay is not None:
            self._relay.stop()
        if self.stream is not None:
            self.stream.stop()
        if self._scheduler is not None:
            self._scheduler.stop(wait=True)
        if self._started:
            self.hooks.shutdown(self)
        if self._owns_store:
            self.state.store.close()
        if self.sandbox is not None:
            self.sandbox.stop()
        self.log.info("bot stopped")

    def run(self) -> None:
        """Start and block until :meth:`request_stop` (or a fatal error), then stop cleanly."""
        try:
            self.start()
            self._stop_requested.wait()
            if self.stream is not None and self.stream.fatal_error is not None:
                raise self.stream.fatal_error
        finally:
            self.stop()

    async def serve(self) -> None:
        """Run inside an asyncio program: ``await bot.serve()``; cancelling the task stops it."""
        import asyncio  # only asyncio programs pay for it

        try:
            await asyncio.to_thread(self.run)
        except asyncio.CancelledError:
            self.request_stop()
            raise

    def __enter__(self) -> Bot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
