"""The alerts file (``--alerts alerts.toml``): channels, routes and the delivery schedule.

Secrets never sit in the file: each channel names the *environment variables* that hold its
webhook URL, signing secret or password (``url_env``, ``secret_env``, ``key_env``,
``password_env``); :func:`resolve_secrets` reads them when the service starts and names the
key of a variable that is not set.

Examples
--------
>>> config = AlertsConfig.from_toml('''
... [channels.ops]
... type = "webhook"
... url = "http://127.0.0.1:9/hook"
... [[routes]]
... channels = ["ops"]
... quiet_hours = "23:00-08:00"
... ''')
>>> route = config.routes[0]
>>> route.filings, route.min_urgency.value, route.quiet_hours.start.isoformat()
(('*',), 'high', '23:00:00')
>>> config.delivery.max_attempts
8
>>> AlertsConfig.from_toml('[[routes]]\\nchannels = ["nope"]')
Traceback (most recent call last):
...
icp_notify.errors.InputError: alerts config routes.0.channels: unknown channel 'nope' (channels defined: none) (code: invalid_field)
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic import model_validator as _model_validator

from icp_notify.errors import InputError
from icp_notify.models import URGENCY_ORDER, Urgency

__all__ = [
    "AlertsConfig",
    "ChannelConfig",
    "DeliveryConfig",
    "DingTalkChannel",
    "EmailChannel",
    "FeishuChannel",
    "QuietHours",
    "RouteConfig",
    "WeComChannel",
    "WebhookChannel",
    "load_config",
    "resolve_secrets",
    "urgent_enough",
]

_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeliveryConfig(_Strict):
    """How the worker retries (see "Outbox states and retries" in ``docs/server.md``).

    The wait before try ``n + 1`` is ``min(backoff_cap_s, backoff_base_s * 2 ** (n - 1))``
    times a random factor in [0.5, 1) (jitter); a ``Retry-After`` answer waits at least that
    long. After ``max_attempts`` failed tries the alert is ``dead``.
    """

    max_attempts: int = Field(default=8, ge=1, le=50, description="tries before `dead`")
    backoff_base_s: float = Field(default=30.0, gt=0, le=86_400, description="first retry wait")
    backoff_cap_s: float = Field(default=3600.0, gt=0, le=86_400, description="longest wait")
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="per-request timeout")
    poll_s: float = Field(default=1.0, gt=0, le=60, description="how often the outbox is read")


class QuietHours(_Strict):
    """A daily window (local time of :attr:`AlertsConfig.timezone`) that holds non-critical alerts.

    ``start`` may be after ``end`` (``"23:00-08:00"`` spans midnight).

    Examples
    --------
    >>> q = QuietHours.parse("23:00-08:00")
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> q.release(dt.datetime(2025, 3, 1, 23, 30, tzinfo=tz)).isoformat()
    '2025-03-02T08:00:00+08:00'
    >>> q.release(dt.datetime(2025, 3, 1, 12, 0, tzinfo=tz)) is None
    True
    """

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, value: str) -> QuietHours:
        """Read ``"HH:MM-HH:MM"``.

        Parameters
        ----------
        value : str
            The window.

        Returns
        -------
        QuietHours

        Raises
        ------
        ValueError
            When the text is not two ``HH:MM`` times joined by ``-``, or both are equal.
        """
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
        if m is None:
            raise ValueError(f"{value!r} is not HH:MM-HH:MM (e.g. 23:00-08:00)")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"{value!r}: hours 0-23, minutes 0-59")
        if (h1, m1) == (h2, m2):
            raise ValueError(f"{value!r}: start and end are the same time")
        return cls(start=dt.time(h1, m1), end=dt.time(h2, m2))

    def release(self, at: dt.datetime) -> dt.datetime | None:
        """When an alert raised at ``at`` may go out, or ``None`` if ``at`` is outside the window.

        Parameters
        ----------
        at : datetime
            An aware time in the configured zone.

        Returns
        -------
        datetime or None
            The end of the window (same zone), or ``None``.
        """
        t = at.timetz().replace(tzinfo=None)
        if self.start < self.end:
            inside = self.start <= t < self.end
            end_day = at.date()
        else:
            inside = t >= self.start or t < self.end
            end_day = at.date() + dt.timedelta(days=1) if t >= self.start else at.date()
        if not inside:
            return None
        return dt.datetime.combine(end_day, self.end, tzinfo=at.tzinfo)


class DingTalkChannel(_Strict):
    """DingTalk custom robot (自定义机器人) with 加签; the webhook URL holds ``access_token``."""

    type: Literal["dingtalk"]
    url_env: str = Field(pattern=_ENV_NAME, description="variable holding the webhook URL")
    secret_env: str | None = Field(
        default=None, pattern=_ENV_NAME, description="variable holding the SEC… signing secret"
    )


class FeishuChannel(_Strict):
    """Feishu/Lark custom bot (自定义机器人) with 签名校验."""

    type: Literal["feishu"]
    url_env: str = Field(pattern=_ENV_NAME, description="variable holding the webhook URL")
    secret_env: str | None = Field(
        default=None, pattern=_ENV_NAME, description="variable holding the signing secret"
    )


class WeComChannel(_Strict):
    """WeCom group robot (群机器人): the ``key`` in the URL is the only credential."""

    type: Literal["wecom"]
    key_env: str = Field(pattern=_ENV_NAME, description="variable holding the webhook key")
    url: str = Field(
        default="https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
        pattern=r"^https?://",
        description="the send endpoint (the key is added as ?key=)",
    )


class WebhookChannel(_Strict):
    """Any HTTP endpoint: a JSON body signed with ``X-Signature`` (hex HMAC-SHA256 of the body)."""

    type: Literal["webhook"]
    url: str | None = Field(default=None, pattern=r"^https?://")
    url_env: str | None = Field(default=None, pattern=_ENV_NAME)
    secret_env: str | None = Field(default=None, pattern=_ENV_NAME)

    @_model_validator(mode="after")
    def _one_url(self) -> WebhookChannel:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url or url_env")
        return self


class EmailChannel(_Strict):
    """SMTP e-mail (STARTTLS unless ``starttls = false``, which only a loopback host allows)."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password_env: str | None = Field(default=None, pattern=_ENV_NAME)
    sender: str = Field(alias="from", min_length=3)
    to: tuple[str, ...] = Field(min_length=1)
    ca_file: Path | None = Field(default=None, description="CA bundle to verify the server with")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @_model_validator(mode="after")
    def _tls(self) -> EmailChannel:
        if not self.starttls and self.host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("starttls = false is only allowed for a loopback host")
        if self.username is not None and self.password_env is None:
            raise ValueError("username needs password_env")
        return self


ChannelConfig = Annotated[
    DingTalkChannel | FeishuChannel | WeComChannel | WebhookChannel | EmailChannel,
    Field(discriminator="type"),
]
"""One ``[channels.NAME]`` table; ``type`` says which."""

_CHANNEL_TYPES = ("dingtalk", "feishu", "wecom", "webhook", "email")


class RouteConfig(_Strict):
    """One ``[[routes]]`` entry: which filings go to which channels, and when.

    A notice goes to the channels of every route whose ``filings`` globs match its filing,
    when its urgency is ``min_urgency`` or more urgent. Quiet hours hold an alert until the
    window ends, except a ``critical`` one, which always goes at once.
    """

    filings: tuple[str, ...] = Field(default=("*",), min_length=1)
    channels: tuple[str, ...] = Field(min_length=1)
    min_urgency: Urgency = Urgency.HIGH
    quiet_hours: QuietHours | None = None
    lang: Literal["zh", "en"] = "zh"
    escalations: bool = Field(
        default=True,
        description="send a follow-up when a notice escalates (urgency rises, or settled)",
    )

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet(cls, value: Any) -> Any:
        return QuietHours.parse(value) if isinstance(value, str) else value

    def matches(self, filing: str) -> bool:
        """Whether ``filing`` matches one of :attr:`filings` (shell globs, case-sensitive).

        Parameters
        ----------
        filing : str
            The filing name.

        Returns
        -------
        bool

        Examples
        --------
        >>> RouteConfig(filings=("shop-*",), channels=("x",)).matches("shop-cn")
        True
        """
        return any(fnmatch.fnmatchcase(filing, pattern) for pattern in self.filings)


def urgent_enough(urgency: Urgency, minimum: Urgency) -> bool:
    """Whether ``urgency`` is ``minimum`` or more urgent.

    Parameters
    ----------
    urgency : Urgency
        The notice's urgency.
    minimum : Urgency
        The route's threshold.

    Returns
    -------
    bool

    Examples
    --------
    >>> urgent_enough(Urgency.CRITICAL, Urgency.HIGH), urgent_enough(Urgency.NORMAL, Urgency.HIGH)
    (True, False)
    """
    return URGENCY_ORDER.index(urgency) <= URGENCY_ORDER.index(minimum)


class AlertsConfig(_Strict):
    """The whole alerts file.

    Parameters
    ----------
    timezone : str
        The zone quiet hours are read in (default ``Asia/Shanghai``).
    delivery : DeliveryConfig
        Retry schedule and timeouts.
    channels : dict of str to ChannelConfig
        ``[channels.NAME]`` tables.
    routes : tuple of RouteConfig
        ``[[routes]]`` entries, at least one.
    """

    timezone: str = "Asia/Shanghai"
    delivery: DeliveryConfig = DeliveryConfig()
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    routes: tuple[RouteConfig, ...] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("channels")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
                raise ValueError(f"channel name {name!r}: use letters, digits, _ . - (max 64)")
        return value

    @property
    def zone(self) -> ZoneInfo:
        """:attr:`timezone` as a :class:`~zoneinfo.ZoneInfo`."""
        return ZoneInfo(self.timezone)

    @classmethod
    def from_toml(cls, text: str, *, where: str = "alerts config") -> AlertsConfig:
        """Parse and validate the TOML text of an alerts file.

        Parameters
        ----------
        text : str
            The file's contents.
        where : str, default "alerts config"
            Prefix of error locations (the file name).

        Returns
        -------
        AlertsConfig

        Raises
        ------
        InputError
            ``invalid_field`` naming the key (``channels.ops.secret_env``, ``routes.0.lang``)
            for invalid content, ``malformed_toml`` for a syntax error.
        """
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError("malformed_toml", str(exc), where=where) from None
        try:
            config = cls.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = [str(p) for p in err["loc"]]
            if len(loc) > 2 and loc[0] == "channels" and loc[2] in _CHANNEL_TYPES:
                del loc[2]  # the union tag pydantic inserts
            message = str(err["msg"]).removeprefix("Value error, ")
            raise InputError(
                "invalid_field", message, where=f"{where} {'.'.join(loc) or '(top level)'}"
            ) from None
        for i, route in enumerate(config.routes):
            for name in route.channels:
                if name not in config.channels:
                    known = ", ".join(sorted(config.channels)) or "none"
                    raise InputError(
                        "invalid_field",
                        f"unknown channel {name!r} (channels defined: {known})",
                        where=f"{where} routes.{i}.channels",
                    )
        return config


def load_config(path: str | Path) -> AlertsConfig:
    """Read an alerts file.

    Parameters
    ----------
    path : str or Path
        The TOML file.

    Returns
    -------
    AlertsConfig

    Raises
    ------
    InputError
        ``unreadable`` when the file cannot be read; see :meth:`AlertsConfig.from_toml`.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            "unreadable", f"cannot read the alerts file: {exc}", where=str(path)
        ) from None
    return AlertsConfig.from_toml(text, where=str(path))


def resolve_secrets(
    config: AlertsConfig, environ: Mapping[str, str] | None = None
) -> dict[str, dict[str, SecretStr]]:
    """Read every ``*_env`` variable the channels name.

    Parameters
    ----------
    config : AlertsConfig
        The alerts file.
    environ : mapping, optional
        The environment; ``os.environ`` when omitted.

    Returns
    -------
    dict
        channel name → {field without ``_env`` (``url``, ``secret``, ``key``, ``password``) →
        value}.

    Raises
    ------
    InputError
        ``missing_secret`` naming ``channels.NAME.FIELD_env`` and the variable when it is unset
        or empty.

    Examples
    --------
    >>> config = AlertsConfig.from_toml('''
    ... [channels.hook]
    ... type = "webhook"
    ... url = "http://127.0.0.1:9/"
    ... secret_env = "HOOK_SECRET"
    ... [[routes]]
    ... channels = ["hook"]''')
    >>> resolve_secrets(config, {"HOOK_SECRET": "s3"})["hook"]["secret"].get_secret_value()
    's3'
    >>> resolve_secrets(config, {})
    Traceback (most recent call last):
    ...
    icp_notify.errors.InputError: channels.hook.secret_env: environment variable HOOK_SECRET is not set (code: missing_secret). Hint: export HOOK_SECRET=... before starting
    """
    env = os.environ if environ is None else environ
    out: dict[str, dict[str, SecretStr]] = {}
    for name, channel in config.channels.items():
        values: dict[str, SecretStr] = {}
        for field_name in type(channel).model_fields:
            if not field_name.endswith("_env"):
                continue
            var = getattr(channel, field_name)
            if var is None:
                continue
            value = env.get(var, "")
            if not value:
                raise InputError(
                    "missing_secret",
                    f"environment variable {var} is not set",
                    where=f"channels.{name}.{field_name}",
                    hint=f"export {var}=... before starting",
                )
            values[field_name.removesuffix("_env")] = SecretStr(value)
        out[name] = values
    return out
