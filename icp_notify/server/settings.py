"""Settings of the HTTP service, from arguments and ``ICP_NOTIFY_*`` environment variables.

Every setting is one field of :class:`Settings`; its environment variable is ``ICP_NOTIFY_``
followed by the field name in capitals (``token`` → ``ICP_NOTIFY_TOKEN``). Arguments given to
:meth:`Settings.from_env` (and the ``icp-notify serve`` options) win over the environment.

Examples
--------
>>> s = Settings.from_env({"ICP_NOTIFY_PORT": "9000", "ICP_NOTIFY_TOKEN": "t0ken"})
>>> s.port, s.token.get_secret_value(), s.max_body_bytes
(9000, 't0ken', 262144)
>>> Settings.from_env({}, host="0.0.0.0").check_bind()
Traceback (most recent call last):
...
icp_notify.errors.InputError: host: refusing to listen on 0.0.0.0 without a token (code: no_token). Hint: set ICP_NOTIFY_TOKEN (or --token), or listen on 127.0.0.1
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from icp_notify.errors import InputError

ENV_PREFIX = "ICP_NOTIFY_"
"""Prefix of every environment variable the service reads."""

DEFAULT_GENERIC_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text", "content", "body", "message", "msg", "payload.message"),
    "sender": ("from", "sender", "phoneNumber", "phone", "address", "payload.phoneNumber"),
    "received_at": ("received_at", "receivedAt", "date", "time", "payload.receivedAt"),
    "message_id": ("message_id", "messageId", "id", "payload.messageId"),
    "filing": ("filing",),
}
"""Default field mapping of ``POST /v1/ingest/generic``: our field → names tried in order.

A dotted name (``payload.message``) reaches into nested JSON objects.
"""


class Settings(BaseModel):
    """Everything the service can be configured with (one place, documented per field).

    Examples
    --------
    >>> Settings().db.name
    'icp-notify.sqlite3'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port (0: any free port)")
    token: SecretStr | None = Field(
        default=None,
        description="bearer token required on every /v1 route; mandatory off loopback",
    )
    smsforwarder_secret: SecretStr | None = Field(
        default=None,
        description="SmsForwarder webhook secret (加签密钥); when set, signed webhooks are verified",
    )
    db: Path = Field(default=Path("icp-notify.sqlite3"), description="SQLite database file")
    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="largest request body accepted (413 above)"
    )
    max_text_chars: int = Field(
        default=20_000, ge=100, description="longest notice text accepted (422 above)"
    )
    timestamp_window_s: int = Field(
        default=3600, ge=1, description="how far a signed webhook's timestamp may be from now"
    )
    default_filing: str = Field(
        default="default",
        min_length=1,
        max_length=200,
        description="filing used by webhooks posted without ?filing=",
    )
    generic_fields: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_GENERIC_FIELDS),
        description=(
            "field mapping of /v1/ingest/generic as JSON, e.g."
            ' {"text": ["body"], "sender": ["from"]}; merged over the defaults'
        ),
    )
    context_notices: int = Field(
        default=20, ge=0, le=1000, description="earlier notices of a filing passed as context"
    )
    synchronous: str = Field(
        default="FULL",
        pattern="^(FULL|NORMAL|EXTRA)$",
        description="SQLite synchronous mode (FULL: a 2xx survives power loss)",
    )
    log_level: str = Field(default="info", description="log level of `icp-notify serve`")
    alerts: Path | None = Field(
        default=None,
        description="alerts file (TOML): channels and routes; alerts are off without it",
    )
    pipeline: str | None = Field(
        default=None,
        pattern=r"^[\w.]+:[\w.]+$",
        description=(
            "`module:callable` returning the pipeline to use instead of"
            " icp_notify.pipeline.Pipeline.default (a custom or fake classifier)"
        ),
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``ICP_NOTIFY_*`` variables, then apply ``overrides``.

        Parameters
        ----------
        environ : mapping, optional
            The environment; ``os.environ`` when omitted.
        **overrides
            Field values that win over the environment; ``None`` values are ignored.

        Returns
        -------
        Settings

        Raises
        ------
        InputError
            ``invalid_field`` naming the variable when a value does not fit its field.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is None or raw == "":
                continue
            if name == "generic_fields":
                try:
                    parsed = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise InputError(
                        "invalid_field",
                        f"not JSON: {exc}",
                        where=ENV_PREFIX + name.upper(),
                        hint='use e.g. {"text": ["body"], "sender": ["from"]}',
                    ) from None
                values[name] = _merge_fields(parsed, ENV_PREFIX + name.upper())
            else:
                values[name] = raw
        for name, value in overrides.items():
            if value is not None:
                values[name] = _merge_fields(value, name) if name == "generic_fields" else value
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = str(err["loc"][0]) if err["loc"] else "settings"
            raise InputError(
                "invalid_field",
                err["msg"],
                where=f"{field} ({ENV_PREFIX}{field.upper()})",
            ) from None

    def is_loopback(self) -> bool:
        """Whether :attr:`host` is a loopback address (127.0.0.0/8, ::1 or ``localhost``).

        Returns
        -------
        bool

        Examples
        --------
        >>> Settings(host="127.0.0.1").is_loopback(), Settings(host="0.0.0.0").is_loopback()
        (True, False)
        """
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def check_bind(self) -> None:
        """Refuse a non-loopback address without a token.

        Raises
        ------
        InputError
            ``no_token`` when :attr:`host` is not loopback and no token is set.
        """
        if not self.is_loopback() and (self.token is None or not self.token.get_secret_value()):
            raise InputError(
                "no_token",
                f"refusing to listen on {self.host} without a token",
                where="host",
                hint="set ICP_NOTIFY_TOKEN (or --token), or listen on 127.0.0.1",
            )


def _merge_fields(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    """Merge a user field mapping over :data:`DEFAULT_GENERIC_FIELDS`, validating it."""
    if not isinstance(value, Mapping):
        raise InputError("invalid_field", "expected a JSON object", where=where)
    merged = dict(DEFAULT_GENERIC_FIELDS)
    for key, names in value.items():
        if key not in DEFAULT_GENERIC_FIELDS:
            raise InputError(
                "invalid_field",
                f"unknown field {key!r}; known: {', '.join(DEFAULT_GENERIC_FIELDS)}",
                where=where,
            )
        listed = [names] if isinstance(names, str) else names
        if not isinstance(listed, list | tuple) or not all(
            isinstance(n, str) and n for n in listed
        ):
            raise InputError("invalid_field", f"{key}: expected a list of names", where=where)
        merged[key] = tuple(listed)
    return merged
