"""The ``desk:`` section of the config (users, roles, approval settings). No web imports here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from civicbot.config_types import Duration, StrictModel, secrets_from_files

Role = Literal["editor", "approver", "admin"]
ROLE_RANK: dict[str, int] = {"editor": 0, "approver": 1, "admin": 2}
#: The default ``desk.approval.lead``.
DEFAULT_LEAD = timedelta(hours=2)


class DeskUser(StrictModel):
    """A person of the communication team. ``editor`` writes and edits, ``approver`` also
    approves, ``admin`` also pauses the bot and sees the accounts' health."""

    #: The login name.
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.@-]+$")
    #: ``editor``, ``approver`` or ``admin``.
    role: Role = "editor"
    #: An argon2 hash made by ``civicbot hash-password`` (or ``password_hash_file``).
    password_hash: SecretStr

    @model_validator(mode="before")
    @classmethod
    def _hash_file(cls, data: Any, info: ValidationInfo) -> Any:
        return secrets_from_files(cls, data, info)

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("$argon2"):
            raise ValueError("expected an argon2 hash made by `civicbot hash-password`")
        return value

    def can(self, role: Role) -> bool:
        """True when this user has at least ``role``'s rights."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class ApprovalSettings(StrictModel):
    """``desk.approval``."""

    #: Drafts of jobs under approval are built this long before their time.
    lead: Duration = DEFAULT_LEAD
    #: ``required``: posts written on the desk wait for an approver too.
    desk_posts: Literal["required", "never"] = "never"

    @field_validator("lead")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("lead must be a positive duration such as 2h")
        return value


class DeskConfig(StrictModel):
    """``desk:``: the editorial desk served by ``civicbot run --http``."""

    #: Signs the session cookies (write ``${CIVICBOT_DESK_SECRET}`` or use ``secret_key_file``).
    secret_key: SecretStr
    #: The people who may log in, each with a role.
    users: list[DeskUser] = Field(min_length=1)
    #: Jobs under approval and desk posts.
    approval: ApprovalSettings = ApprovalSettings()
    #: Language of the desk (``fr`` or ``en``); default: the config's ``language``.
    language: Literal["fr", "en"] | None = None
    #: How many days the calendar shows.
    days: int = Field(default=14, ge=1, le=62)
    #: The largest image accepted on upload, in megabytes.
    max_upload_mb: float = Field(default=8, gt=0, le=40)
    #: The address people use (``https://...`` behind a reverse proxy makes cookies Secure).
    public_url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _secret_file(cls, data: Any, info: ValidationInfo) -> Any:
        return secrets_from_files(cls, data, info)

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("secret_key must be at least 16 characters (use a random string)")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> DeskConfig:
        names = [u.name for u in self.users]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"user names must be unique: {', '.join(dupes)}")
        return self

    def user(self, name: str) -> DeskUser | None:
        return next((u for u in self.users if u.name == name), None)
