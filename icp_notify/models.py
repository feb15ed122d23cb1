"""Every public data type of icp_notify (pydantic v2, frozen, JSON round-trippable).

The flow is ``RawMessage`` → :class:`Notice` → :class:`Classification` → :class:`Advice`, bundled
in a :class:`Report`. Sequences are tuples and models are frozen, so a result can never be a
mutable alias of internal state.

Examples
--------
>>> from icp_notify.models import Situation, Kind, KIND_SITUATION
>>> Situation.ACCESS_CANCELLED.value
'access_cancelled'
>>> KIND_SITUATION[Kind.PROVIDER_ACCESS_CANCELLED]
<Situation.ACCESS_CANCELLED: 'access_cancelled'>
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""The time zone naive datetimes are taken to be in (China Standard Time)."""


DATETIME_MIN = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
"""The earliest instant an :data:`AwareDatetime` accepts (ICP filing began in the 2000s)."""
DATETIME_MAX = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
"""The first instant an :data:`AwareDatetime` no longer accepts."""


def in_datetime_range(value: dt.datetime) -> bool:
    """Whether an aware ``value`` lies in ``[DATETIME_MIN, DATETIME_MAX)``.

    Instants outside it are client mistakes (year 0001 or 9999) that would overflow date
    arithmetic (``received_at + 7 h``, conversion to Asia/Shanghai).

    Parameters
    ----------
    value : datetime
        An aware datetime.

    Returns
    -------
    bool

    Examples
    --------
    >>> in_datetime_range(dt.datetime(2025, 3, 1, tzinfo=SHANGHAI))
    True
    >>> in_datetime_range(dt.datetime(9999, 12, 31, 23, tzinfo=SHANGHAI))
    False
    """
    if value.tzinfo is SHANGHAI and _SURE_YEARS[0] <= value.year <= _SURE_YEARS[1]:
        return True  # the common case, answered without the zone's offset (three utcoffset calls)
    return DATETIME_MIN <= value < DATETIME_MAX


_SURE_YEARS = (DATETIME_MIN.year + 1, DATETIME_MAX.year - 2)
"""Local years in Asia/Shanghai whose every instant is in range, whatever the offset there
(+08:00, or +09:00 in the summers of 1986–1991): 1991 to 2098."""


RANGE_TEXT = f"{DATETIME_MIN.date().isoformat()} to {DATETIME_MAX.date().isoformat()} (UTC)"
"""The supported range as error messages name it."""


def aware_in_range(value: dt.datetime) -> dt.datetime:
    """The time rule of every public type: a naive time is Asia/Shanghai, and it must lie in range.

    This is the one place the rule is written: :data:`AwareDatetime` validates with it, and
    :func:`icp_notify.boundary.coerce_time` applies it to a time from outside (a string, an
    epoch number) and turns its ``ValueError`` into an ``InputError`` naming the field.

    Parameters
    ----------
    value : datetime
        Naive or aware.

    Returns
    -------
    datetime
        ``value`` itself when it is aware, else ``value`` in Asia/Shanghai.

    Raises
    ------
    ValueError
        When the instant lies outside ``[DATETIME_MIN, DATETIME_MAX)``.

    Examples
    --------
    >>> aware_in_range(dt.datetime(2025, 3, 1, 10, 0)).isoformat()
    '2025-03-01T10:00:00+08:00'
    >>> aware_in_range(dt.datetime(9999, 1, 1))
    Traceback (most recent call last):
    ...
    ValueError: 9999-01-01T00:00:00+08:00 is outside the supported range 1990-01-01 to 2100-01-01 (UTC)
    """
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        value = value.replace(tzinfo=SHANGHAI)
    if not in_datetime_range(value):
        raise ValueError(f"{value.isoformat()} is outside the supported range {RANGE_TEXT}")
    return value


AwareDatetime = Annotated[dt.datetime, AfterValidator(aware_in_range)]
"""A datetime that always carries a time zone (naive input is read as Asia/Shanghai) and lies
between :data:`DATETIME_MIN` and :data:`DATETIME_MAX` (:func:`aware_in_range`)."""


class _Frozen(BaseModel):
    """Base of every public model: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


_M = TypeVar("_M", bound=_Frozen)
_set_attribute = object.__setattr__


def construct_trusted(
    cls: type[_M], values: dict[str, Any], fields_set: Iterable[str] | None = None
) -> _M:
    """``cls.model_construct(**values)`` for ``values`` holding every field, in field order.

    Internal to the package (the rules and the classifier build their results with it); not
    part of the public API.

    The same instance ``model_construct`` builds (``__dict__`` = ``values``; ``model_fields_set``
    = ``fields_set``, default every field; no extra, no private attributes), without its
    per-field loop. Only for values our own code built that validation would return unchanged
    (see the callers); ``values`` becomes the instance's ``__dict__``, so the caller must not keep it.
    ``tests/test_decide_speed.py`` pins the equivalence.
    """
    model = cls.__new__(cls)
    _set_attribute(model, "__dict__", values)
    _set_attribute(
        model, "__pydantic_fields_set__", set(values if fields_set is None else fields_set)
    )
    _set_attribute(model, "__pydantic_extra__", None)
    _set_attribute(model, "__pydantic_private__", None)
    return model


# --------------------------------------------------------------------------- labels


class Situation(StrEnum):
    """What a notice means for the filing.

    The first four are the situations in which MIIT sends its one generic change notice
    (您的备案信息已被变更); ``other`` is every notice that is not a change notice.
    """

    NEW_DOMAIN = "new_domain"
    """新增域名 / 新增网站 under an existing filing (主体) was approved."""
    MODIFY_DOMAIN = "modify_domain"
    """A 变更备案 (domain, site, person, 主体 or access details at the same provider) was approved."""
    ACCESS_DOMAIN = "access_domain"
    """An 接入备案 / 新增接入 / 转入 at a (new) provider was approved; the number is kept."""
    ACCESS_CANCELLED = "access_cancelled"
    """A provider has cancelled its access (取消接入). Urgent: the filing can be revoked."""
    OTHER = "other"
    """Not a change notice (approval of a first filing, codes, progress, phishing, …)."""


CHANGE_SITUATIONS: tuple[Situation, ...] = (
    Situation.NEW_DOMAIN,
    Situation.MODIFY_DOMAIN,
    Situation.ACCESS_DOMAIN,
    Situation.ACCESS_CANCELLED,
)
"""The four situations behind MIIT's generic change notice, in a fixed order."""

DEFAULT_ORDER: tuple[Situation, ...] = (
    Situation.ACCESS_CANCELLED,
    Situation.NEW_DOMAIN,
    Situation.ACCESS_DOMAIN,
    Situation.MODIFY_DOMAIN,
)
"""The order of the four candidates when nothing narrows them (the corpus labels use it too).

``access_cancelled`` comes first: the user who needs to ask what the generic notice means is
usually the one who filed nothing recently — and then the old provider's (possibly late)
cancellation is the explanation left; it is also the one that costs the filing when missed.
The others follow by how often an operation of that kind goes unrecorded: adding a site,
moving in, changing details (a change of details is what a user is least likely to forget).
Defined here and re-exported by :mod:`icp_notify.context`, so a classification without a context
does not import the context engine.
"""


class Kind(StrEnum):
    """A finer label on every result, so ops tooling can route ``other`` notices too.

    See :data:`KIND_DESCRIPTIONS` for what each one means and :data:`KIND_SITUATION` for the
    situation it implies (``None`` for the generic notice, which names no situation).
    """

    CHANGE_NOTICE_GENERIC = "change_notice_generic"
    PROVIDER_NEW_DOMAIN = "provider_new_domain"
    PROVIDER_MODIFY_DOMAIN = "provider_modify_domain"
    PROVIDER_ACCESS_DOMAIN = "provider_access_domain"
    PROVIDER_ACCESS_CANCELLED = "provider_access_cancelled"
    FIRST_FILING_APPROVED = "first_filing_approved"
    VERIFICATION_CODE = "verification_code"
    PROGRESS = "progress"
    REJECTED = "rejected"
    FILING_CANCELLED = "filing_cancelled"
    SHELL_SITE_WARNING = "shell_site_warning"
    CHECK_REQUEST = "check_request"
    FOOTER_REMINDER = "footer_reminder"
    UNRELATED_ACCESS = "unrelated_access"
    REGISTRAR_TRANSFER = "registrar_transfer"
    PUBLIC_SECURITY = "public_security"
    PHISHING = "phishing"
    ANTI_FRAUD = "anti_fraud"
    MARKETING = "marketing"
    UNRELATED = "unrelated"


KIND_DESCRIPTIONS: dict[Kind, str] = {
    Kind.CHANGE_NOTICE_GENERIC: (
        "MIIT's generic change notice (您的备案信息已被变更…); by itself it names none of the four"
        " change situations."
    ),
    Kind.PROVIDER_NEW_DOMAIN: "A provider says a 新增网站/新增域名 filing was approved.",
    Kind.PROVIDER_MODIFY_DOMAIN: "A provider says a 变更备案 (change filing) was approved.",
    Kind.PROVIDER_ACCESS_DOMAIN: "A provider says an 接入备案 (access filing) was approved.",
    Kind.PROVIDER_ACCESS_CANCELLED: "A provider says it has cancelled its access (已取消接入).",
    Kind.FIRST_FILING_APPROVED: "A first filing (首次备案) was approved with a new 主体 number.",
    Kind.VERIFICATION_CODE: "MIIT/provider verification SMS (短信核验) with a code or link.",
    Kind.PROGRESS: "Progress of a filing in review (初审通过, 已提交管局, 审核中).",
    Kind.REJECTED: "A filing was returned or rejected (退回/驳回) and needs fixing.",
    Kind.FILING_CANCELLED: "The filing itself (主体 or website) was cancelled (注销).",
    Kind.SHELL_SITE_WARNING: "A warning that the filing is a shell (空壳) with no access behind it.",
    Kind.CHECK_REQUEST: "A 核查/整改 request that only threatens 取消接入 if ignored.",
    Kind.FOOTER_REMINDER: "A reminder to display (悬挂) the filing number in the site footer.",
    Kind.UNRELATED_ACCESS: "CDN, WAF or security-product '接入' unrelated to ICP filing.",
    Kind.REGISTRAR_TRANSFER: "A domain registrar transfer (域名转入/转出) notice.",
    Kind.PUBLIC_SECURITY: "A public-security (公安/公网安备) filing notice, not ICP.",
    Kind.PHISHING: "A fake filing notice, e.g. the generic sentence with a link added.",
    Kind.ANTI_FRAUD: "A national anti-fraud warning (e.g. from 12381).",
    Kind.MARKETING: "Marketing from a provider, even when it mentions 备案.",
    Kind.UNRELATED: "Anything else.",
}
"""One sentence per :class:`Kind`."""

KIND_SITUATION: dict[Kind, Situation | None] = {
    Kind.CHANGE_NOTICE_GENERIC: None,
    Kind.PROVIDER_NEW_DOMAIN: Situation.NEW_DOMAIN,
    Kind.PROVIDER_MODIFY_DOMAIN: Situation.MODIFY_DOMAIN,
    Kind.PROVIDER_ACCESS_DOMAIN: Situation.ACCESS_DOMAIN,
    Kind.PROVIDER_ACCESS_CANCELLED: Situation.ACCESS_CANCELLED,
    **{
        k: Situation.OTHER
        for k in Kind
        if k
        not in {
            Kind.CHANGE_NOTICE_GENERIC,
            Kind.PROVIDER_NEW_DOMAIN,
            Kind.PROVIDER_MODIFY_DOMAIN,
            Kind.PROVIDER_ACCESS_DOMAIN,
            Kind.PROVIDER_ACCESS_CANCELLED,
        }
    },
}
"""The situation a kind implies; ``None`` for the generic notice (context decides)."""


class Channel(StrEnum):
    """How a notice arrived."""

    SMS = "sms"
    EMAIL = "email"
    UNKNOWN = "unknown"


class SenderType(StrEnum):
    """Who sent a notice, as far as the sender, signature and text tell."""

    MIIT = "miit"
    PROVIDER = "provider"
    UNKNOWN = "unknown"


# --------------------------------------------------------------------------- input


# Serialised by pydantic only: with every field inside a Notice (and so in a Report, the server's
# stored reports and a batch row's notice), and without its None fields as a batch row's own
# source (icp_notify.batch.rows.row_source). (Not in the docstring: it is the OpenAPI description.)
class SourceRef(_Frozen):
    """Where a message came from, for tracing a result back to its input."""

    file: str | None = None
    line: int | None = Field(default=None, ge=1)
    offset: int | None = Field(default=None, ge=0)
    index: int | None = Field(default=None, ge=0, description="0-based position in the source")
    message_id: str | None = None


class RawMessage(_Frozen):
    """One message as a reader produced it, before parsing.

    Examples
    --------
    >>> m = RawMessage(text="您的备案信息已被变更", received_at="2025-03-01T08:00:00")
    >>> m.received_at.isoformat()
    '2025-03-01T08:00:00+08:00'
    """

    text: str
    channel: Channel = Channel.UNKNOWN
    sender: str | None = None
    received_at: AwareDatetime | None = None
    subject: str | None = None
    source: SourceRef | None = None
    context: Context | None = Field(
        default=None, description="what the archive recorded about the filing (batch inputs)"
    )
    defects: tuple[Defect, ...] = Field(
        default=(),
        description="what the reader repaired (e.g. undecodable bytes); parse() keeps them",
    )


class ReadError(_Frozen):
    """A record a reader could not turn into a :class:`RawMessage` (the stream goes on).

    Examples
    --------
    >>> e = ReadError(code="invalid_json", message="line is not JSON", source=SourceRef(file="a.jsonl", line=3))
    >>> e.code, e.source.line
    ('invalid_json', 3)
    """

    code: str = Field(
        description="machine-readable, e.g. invalid_json, bad_row, unreadable, xml_error"
    )
    message: str
    source: SourceRef | None = None
    position: str | None = Field(default=None, description="where in the source, as words")


# --------------------------------------------------------------------------- entities


class IcpNumber(_Frozen):
    """An ICP filing or licence number such as ``京ICP备2024012345号-3``.

    ``province`` is the canonical one-character abbreviation (蜀 → 川, 粵 → 粤 …),
    ``record_type`` is ``备`` for a filing and ``证`` for a commercial licence.
    """

    text: str = Field(description="as written in the notice")
    province: str
    record_type: Literal["备", "证"]
    number: str
    site: int | None = Field(default=None, ge=1, description="the -N website suffix")
    span: tuple[int, int] | None = Field(default=None, description="span in Notice.text")

    @property
    def canonical(self) -> str:
        """The number in its canonical written form, e.g. ``京ICP备2024012345号-3``."""
        suffix = f"-{self.site}" if self.site is not None else ""
        return f"{self.province}ICP{self.record_type}{self.number}号{suffix}"


class Licence(_Frozen):
    """A value-added telecom licence such as ``京B2-20201234`` (not an ICP filing number)."""

    text: str
    province: str
    category: str
    number: str


class PublicSecurityNumber(_Frozen):
    """A public-security filing such as ``京公网安备11010502000001号`` — never an ICP number."""

    text: str
    province: str
    number: str


class Domain(_Frozen):
    """A domain name: lower-cased, Unicode (IDN) form kept beside its punycode form."""

    name: str
    ascii: str = Field(description="IDNA/punycode form; equal to name for ASCII domains")


class IpAddress(_Frozen):
    """An IPv4 or IPv6 address mentioned in the text."""

    address: str
    version: Literal[4, 6]


class ProviderMention(_Frozen):
    """A hosting provider named in the notice, by its canonical name."""

    name: str = Field(description="canonical name, e.g. 阿里云")
    alias: str = Field(description="the alias as written, e.g. Aliyun or 万网")


class VerificationCode(_Frozen):
    """A verification code (验证码/核验码)."""

    code: str


class Url(_Frozen):
    """A URL with its host."""

    url: str
    host: str


class DateMention(_Frozen):
    """A date (and time) mentioned in the text, e.g. ``2025年3月1日``."""

    text: str
    value: dt.date | None = None
    time: dt.time | None = None


class DurationMention(_Frozen):
    """A duration mentioned in the text, e.g. ``7小时`` or ``24小时内``."""

    text: str
    seconds: int = Field(ge=0)
    within: bool = Field(default=False, description="a limit (…内/以内), not a delay")


class Recipient(_Frozen):
    """The addressee as written (尊敬的用户张**)."""

    name: str
    masked: bool = Field(description="redacted with * or X, e.g. 张** or XX")


class Entities(_Frozen):
    """Everything the parser extracted from a notice.

    Examples
    --------
    >>> e = Entities(domains=[{"name": "example.cn", "ascii": "example.cn"}])
    >>> e.domains[0].name, e.icp_numbers, e.provider is None
    ('example.cn', (), True)
    """

    icp_numbers: tuple[IcpNumber, ...] = ()
    licences: tuple[Licence, ...] = ()
    public_security_numbers: tuple[PublicSecurityNumber, ...] = ()
    domains: tuple[Domain, ...] = ()
    ips: tuple[IpAddress, ...] = ()
    providers: tuple[ProviderMention, ...] = ()
    codes: tuple[VerificationCode, ...] = ()
    urls: tuple[Url, ...] = ()
    dates: tuple[DateMention, ...] = ()
    durations: tuple[DurationMention, ...] = ()
    phones: tuple[str, ...] = Field(default=(), description="phone numbers, masked or not")

    @property
    def provider(self) -> ProviderMention | None:
        """The first provider named, or ``None``."""
        return self.providers[0] if self.providers else None


class Defect(_Frozen):
    """Something the parser repaired, dropped or could not read, with where it happened."""

    code: str = Field(description="machine-readable, e.g. undecodable_bytes, forward_header")
    message: str
    position: int | None = None


class ForwardInfo(_Frozen):
    """What a forwarding wrapper carried (SmsForwarder template, Fwd: mail, pasted JSON)."""

    wrapper: str = Field(description="smsforwarder, json, email_forward, qq_original, quoted_reply")
    original_sender: str | None = None
    sim: str | None = None
    sub_id: str | None = None
    received_text: str | None = Field(default=None, description="receive time as written")
    device: str | None = None


class Notice(_Frozen):
    """A parsed notice: the raw text, its normalised form and everything extracted from it.

    Built by :func:`icp_notify.parse.parse`; the fields can be given directly (tests, replays).

    Examples
    --------
    >>> n = Notice(raw_text="您的备案已通过", text="您的备案已通过", received_at="2025-03-04 09:12")
    >>> n.channel.value, n.received_at.isoformat()
    ('unknown', '2025-03-04T09:12:00+08:00')
    """

    raw_text: str
    text: str = Field(description="normalised body (no signature, opt-out tail or wrapper)")
    channel: Channel = Channel.UNKNOWN
    sender: str | None = None
    sender_type: SenderType = SenderType.UNKNOWN
    sender_provider: str | None = Field(
        default=None,
        description="canonical provider that sent it (from the signature or sender address)",
    )
    signature: str | None = Field(default=None, description="the 【…】 brand, without brackets")
    subject: str | None = None
    received_at: AwareDatetime | None = None
    recipient: Recipient | None = None
    opt_out: str | None = Field(default=None, description="the opt-out tail, e.g. 回T退订")
    forward: ForwardInfo | None = None
    entities: Entities = Entities()
    defects: tuple[Defect, ...] = ()
    source: SourceRef | None = None


# --------------------------------------------------------------------------- context


class Operation(_Frozen):
    """A filing operation the user submitted (what explains a later generic notice).

    ``from_provider`` set on an ``access_domain`` operation records a move between providers.
    Every ``access_domain`` operation is read as a move (the old provider cancels its access
    afterwards) unless ``keeps_previous_provider`` is true or ``provider == from_provider``.
    A ``submitted_at`` without a time zone is read as Asia/Shanghai (UTC+8).

    Examples
    --------
    >>> op = Operation(kind="access_domain", submitted_at="2025-03-01T10:00:00+08:00",
    ...     provider="腾讯云", from_provider="阿里云")
    >>> op.kind.value, op.from_provider, op.keeps_previous_provider
    ('access_domain', '阿里云', False)
    """

    kind: Literal[Situation.NEW_DOMAIN, Situation.MODIFY_DOMAIN, Situation.ACCESS_DOMAIN]
    submitted_at: AwareDatetime
    domain: str | None = None
    provider: str | None = None
    from_provider: str | None = None
    keeps_previous_provider: bool = Field(
        default=False,
        description="an access_domain that adds a second provider without leaving the first"
        " (no cancellation follows it)",
    )


class PriorNotice(_Frozen):
    """An earlier notice about the same filing.

    Examples
    --------
    >>> p = PriorNotice(text="【某云】您的接入备案已提交管局审核。", received_at="2025-03-02 10:00")
    >>> p.channel.value, p.received_at.utcoffset()
    ('unknown', datetime.timedelta(seconds=28800))
    """

    text: str
    received_at: AwareDatetime
    sender: str | None = None
    channel: Channel = Channel.UNKNOWN


class Context(_Frozen):
    """What the caller knows about the filing: recent operations and earlier notices.

    Examples
    --------
    >>> c = Context.model_validate({"operations": [
    ...     {"kind": "access_domain", "submitted_at": "2025-03-01T10:00:00", "provider": "腾讯云"}]})
    >>> c.operations[0].kind.value, c.operations[0].submitted_at.utcoffset()
    ('access_domain', datetime.timedelta(seconds=28800))
    """

    operations: tuple[Operation, ...] = ()
    previous_notices: tuple[PriorNotice, ...] = ()


# --------------------------------------------------------------------------- classification


class Decider(StrEnum):
    """What took part in a decision."""

    RULES = "rules"
    MODEL = "model"
    CONTEXT = "context"


class Evidence(_Frozen):
    """One reason behind a classification (a rule match, a model feature, a context item).

    Examples
    --------
    >>> e = Evidence(source="rule", id="miit.generic_change", kind="change_notice_generic",
    ...     span=(11, 19), matched="备案信息已被变更", weight=0.99)
    >>> e.kind.value, e.timed_out
    ('change_notice_generic', False)
    """

    source: Literal["rule", "model", "context"]
    id: str = Field(description="rule id, model feature, or context item id")
    detail: str = ""
    situation: Situation | None = None
    kind: Kind | None = None
    span: tuple[int, int] | None = Field(default=None, description="span in Notice.text")
    matched: str | None = None
    weight: float | None = None
    timed_out: bool = False


class Classification(_Frozen):
    """Which situation a notice means, how sure, and why.

    ``situation`` is ``None`` exactly when ``ambiguous`` is true; ``candidates`` are ordered most
    likely first (``[situation]`` when decided); ``probabilities`` cover all five labels.

    Examples
    --------
    >>> c = Classification(situation=None, ambiguous=True,
    ...     candidates=["access_domain", "modify_domain", "new_domain", "access_cancelled"],
    ...     confidence=0.3, probabilities={"access_domain": 0.4, "modify_domain": 0.3,
    ...     "new_domain": 0.2, "access_cancelled": 0.1, "other": 0.0},
    ...     kind="change_notice_generic")
    >>> c.situation, c.candidates[0].value, c.decided_by
    (None, 'access_domain', ())
    """

    situation: Situation | None
    ambiguous: bool
    candidates: tuple[Situation, ...]
    confidence: float = Field(ge=0.0, le=1.0)
    probabilities: dict[Situation, float]
    kind: Kind
    decided_by: tuple[Decider, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    model_version: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Classification:
        if (self.situation is None) != self.ambiguous:
            raise ValueError("situation must be None exactly when ambiguous is true")
        if self.situation is not None and self.candidates != (self.situation,):
            raise ValueError("a decided classification has candidates == (situation,)")
        if self.ambiguous and len(self.candidates) < 2:
            raise ValueError("an ambiguous classification needs at least two candidates")
        return self


# --------------------------------------------------------------------------- advice


class Urgency(StrEnum):
    """How soon the operator must act."""

    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    INFO = "info"


URGENCY_ORDER: tuple[Urgency, ...] = (Urgency.CRITICAL, Urgency.HIGH, Urgency.NORMAL, Urgency.INFO)
"""Urgencies, most urgent first."""


class Action(StrEnum):
    """The recommended next action, a stable code for tooling."""

    REFILE_NOW = "refile_now"
    CONFIRM_NEW_ACCESS = "confirm_new_access"
    WAIT_FOR_SYNC = "wait_for_sync"
    VERIFY_CHANGE = "verify_change"
    CHECK_CANDIDATES = "check_candidates"
    COMPLETE_VERIFICATION = "complete_verification"
    FIX_AND_RESUBMIT = "fix_and_resubmit"
    RESTORE_ACCESS_OR_CANCEL = "restore_access_or_cancel"
    RESPOND_TO_CHECK = "respond_to_check"
    DISPLAY_NUMBER = "display_number"
    WAIT_FOR_REVIEW = "wait_for_review"
    CONFIRM_CANCELLATION = "confirm_cancellation"
    IGNORE_PHISHING = "ignore_phishing"
    NONE = "none"


class Reference(_Frozen):
    """A place to check or act (the MIIT filing system, a provider's filing console)."""

    title: str
    url: str


class Advice(_Frozen):
    """What to do next about a notice, in one language.

    Built by :func:`icp_notify.advisor.advise` from ``data/advice.toml``.

    Examples
    --------
    >>> a = Advice(action="none", urgency="info", lang="en", summary="Nothing to do.")
    >>> a.action.value, a.steps, a.wait
    ('none', (), None)
    """

    action: Action
    urgency: Urgency
    lang: Literal["zh", "en"] = "zh"
    summary: str
    steps: tuple[str, ...] = ()
    why: str = ""
    references: tuple[Reference, ...] = ()
    reachable_after: AwareDatetime | None = None
    wait: dt.timedelta | None = None
    deadline: AwareDatetime | None = None

    @field_validator("wait")
    @classmethod
    def _non_negative(cls, value: dt.timedelta | None) -> dt.timedelta | None:
        if value is not None and value < dt.timedelta(0):
            raise ValueError("wait cannot be negative")
        return value


class Report(_Frozen):
    """Notice + classification + advice: what the API returns, the CLI prints, the server stores.

    Examples
    --------
    >>> from icp_notify import analyze
    >>> r = analyze("【工信部】尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。")
    >>> r.classification.ambiguous, r.advice.action.value == Report.model_validate_json(
    ...     r.model_dump_json()).advice.action.value
    (True, True)
    """

    notice: Notice
    classification: Classification
    advice: Advice
    version: str = Field(description="icp_notify version that produced the report")


def to_json_dict(model: BaseModel) -> dict[str, Any]:
    """Return ``model.model_dump(mode="json")`` — the one JSON form used everywhere.

    Parameters
    ----------
    model : BaseModel
        Any public data type.

    Returns
    -------
    dict
        JSON-ready values (enums as strings, datetimes as ISO text).

    Examples
    --------
    >>> to_json_dict(Recipient(name="张**", masked=True))
    {'name': '张**', 'masked': True}
    """
    return model.model_dump(mode="json")
