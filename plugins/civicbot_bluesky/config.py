"""The ``bluesky`` configuration section (unknown keys are errors)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator

from civicbot import Duration, PluginConfig


class BlueskyConfig(PluginConfig):
    """Publish on Bluesky too, as the ``bluesky`` channel."""

    #: The account's handle (``ville.bsky.social``) or DID.
    handle: str = Field(min_length=3)
    #: An app password (Settings › Privacy and security › App passwords), never the account's
    #: password: write ``${BLUESKY_APP_PASSWORD}`` or use ``app_password_file``.
    app_password: SecretStr
    #: The account's PDS (``https://bsky.social`` for accounts made on bsky.app).
    service: str = "https://bsky.social"
    #: A post that could not be sent for this long (Bluesky down) is dropped, not sent late.
    max_delay: Duration = timedelta(hours=6)
    #: A link card for the first link of a post without image.
    link_cards: bool = True
    #: Longest link text shown in a post (the full address stays in the link).
    link_length: int = Field(default=30, ge=12, le=200)

    @field_validator("service")
    @classmethod
    def _service(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected the PDS's URL, e.g. https://bsky.social")
        return value.rstrip("/")

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str) -> str:
        return value.strip().lstrip("@")
