"""Rules as data: load, validate, compile and match the rules in ``data/rules.toml``.

A rule says "a notice whose text matches one of these patterns, and none of these vetoes, has
this :class:`~icp_notify.models.Kind`". Rules are high-precision: they decide only when they are
sure, and the text model covers the long tail (see :mod:`icp_notify.classifier`).

The file format (documented with examples in ``docs/classification.md``)::

    version = 1
    timeout = 0.05                 # seconds per pattern search (optional)

    [[rule]]
    id = "provider.access_cancelled"   # stable, unique: [a-z][a-z0-9_.-]*
    kind = "provider_access_cancelled" # a models.Kind value
    situation = "access_cancelled"     # must equal KIND_SITUATION[kind]; "generic" for the generic notice
    description = "A provider says it has cancelled its access."
    patterns = ['已(?:完成)?取消(?:您的)?(?:网站|域名)?接入']   # any one matches
    unless = ['将(?:会|被)?取消']      # optional vetoes: any match anywhere in the text vetoes the rule
    sender_types = ["provider"]        # optional: Notice.sender_type must be one of these
    channels = ["sms", "email"]        # optional: Notice.channel must be one of these
    senders = ['1069\\d+']             # optional: Notice.sender must fully match one of these
    url = "any"                        # optional: "any" needs a URL in the notice, "none" forbids one
    weight = 0.97                      # how sure a match is (see below)
    examples.match = ["…"]             # each must match (a string, or a table with text, sender, …)
    examples.no_match = ["…"]          # each must not match

``weight`` is how sure a match is: the share of notices matching the rule that truly have the
rule's kind, as judged on the corpus. A weight of at least :data:`STRONG_WEIGHT` (0.9) means the
rule is sure and may decide alone; a lower weight is a hint the classifier weighs with the model.

Patterns are compiled once with the :mod:`regex` module (``V1`` flags off, case-insensitive).
**Timeouts** (:mod:`icp_notify.bounded`): every search of a rules file you load
(:meth:`RuleSet.load`, :meth:`RuleSet.from_dict`) runs with the file's ``timeout``, and a pattern
that times out is reported as an :class:`~icp_notify.models.Evidence` with ``timed_out=True``,
never raised. The shipped rules (:func:`default_rules`) and the ``url`` condition's link pattern
are ours: ``tests/test_bounded.py`` proves each of their patterns bounded on adversarial
text of :data:`~icp_notify.bounded.PROVEN_CHARS` characters, so on a text up to that length they
run without the per-call timeout (two clock system calls per search, more than most searches
cost); on a longer text they keep it. A rules file cannot switch its timeout off.

Examples
--------
>>> from icp_notify.models import Notice
>>> rules = default_rules()
>>> text = "尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
>>> [(e.id, e.kind.value) for e in rules.match(Notice(raw_text=text, text=text))]
[('miit.generic_change', 'change_notice_generic')]
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import regex
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from icp_notify.artefacts import read_derived
from icp_notify.bounded import PROVEN_CHARS
from icp_notify.errors import RuleFileError
from icp_notify.gates import (
    GATE_TABLE_NAME,
    GateTable,
    gate_index,
    literal_gate,
    lowered,
    pattern_gates,
    present_strings,
    read_gate_table,
)
from icp_notify.models import (
    KIND_SITUATION,
    Channel,
    Evidence,
    Kind,
    Notice,
    SenderType,
    Situation,
    construct_trusted,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "GENERIC_SITUATION",
    "STRONG_WEIGHT",
    "CompiledRule",
    "Example",
    "RuleSet",
    "RuleSpec",
    "default_rules",
    "example_notice",
    "has_link",
    "literal_gate",
]

STRONG_WEIGHT = 0.9
"""A rule with at least this weight is sure enough to decide alone."""

DEFAULT_TIMEOUT = 0.05
"""Seconds allowed for one pattern search on one notice, unless the rules file says otherwise
(the shipped rules use it only on texts longer than :data:`~icp_notify.bounded.PROVEN_CHARS`)."""

GENERIC_SITUATION = "generic"
"""The ``situation`` written for the generic MIIT notice, which names none of the four."""

_FLAGS = regex.IGNORECASE | regex.VERSION0

# The shipped table rules read one item (a line, or a part after ；or ①…⑨) character by character,
# each character checked against the words that mean "not finished" (_VETO_WORDS): the tempered
# token _TEMPERED, 34 times in rules.toml. The engine tries those ≈ 50 words at every character.
# _TEMPERED_FAST matches exactly the same single characters: a character no veto word can start
# with (_VETO_STARTS) is taken by a character class, and the words are tried only after a
# character that can start one; the atomic group keeps it one deterministic step, as _TEMPERED
# is. tests/test_rules_tempered.py proves the start set against every code point.
_VETO_WORDS = (
    "审核中|审批中|处理中|办理中|进行中|排队|待|驳回|退回|未通过|不通过|失败|初审|已提交|提交管局|"
    "提交至|撤回|撤销|计划|预计|将于|拟|(?<!申)请|(?<![无不])需|代办|最快|优惠|元|¥|￥|吗|[?？]|如|若|"
    r"后|pending|review|reject|fail|submitted|declin|waiting|queued|in\s+progress|processing|"
    r"scheduled|please|need|will|offer|\bnot\b|\[\s\]|☐|□"
)
_VETO_STARTS = r"审处办进排待驳退未不失初已提撤计预将拟请需代最优元¥￥吗?？如若后prfsdwqino\[☐□"
_ITEM_CHAR = "[^\\n;；①②③④⑤⑥⑦⑧⑨]"
_TEMPERED = f"(?!(?:{_VETO_WORDS})){_ITEM_CHAR}"
_VETO_STARTS_FOLDED = "PRFSDWQINOİſ"
"""What ``IGNORECASE`` lets :data:`_VETO_STARTS` match besides themselves (upper case; ``İ`` for
``i`` and ``ſ`` for ``s`` by the ``regex`` module's folding): the fast class below is matched
case-sensitively (no case folding at every character), so it refuses these too."""
_FAST_CLASS = f"(?-i:[^\\n;；①②③④⑤⑥⑦⑧⑨{_VETO_STARTS}{_VETO_STARTS_FOLDED}])"
_TEMPERED_FAST = f"(?>{_FAST_CLASS}|(?!(?=[{_VETO_STARTS}])(?:{_VETO_WORDS})){_ITEM_CHAR})"


def _engine_source(source: str) -> str:
    """The source a shipped rule pattern is compiled from: ``source`` with the table rules'
    tempered token rewritten to the equivalent :data:`_TEMPERED_FAST` (≈ 2.5× faster on a
    table; every other pattern unchanged). Matches, spans and groups are the same.

    Parameters
    ----------
    source : str
        A pattern of the shipped rules file.

    Returns
    -------
    str

    Examples
    --------
    >>> _engine_source("已(?:完成)?取消接入")
    '已(?:完成)?取消接入'
    >>> _engine_source(f"新增网站{_TEMPERED}{{0,9}}完成").startswith("新增网站(?>(?-i:[^")
    True
    """
    return source.replace(_TEMPERED, _TEMPERED_FAST)


_LINK = regex.compile(r"(?:https?://|www\.)[^\s，。]|[a-z0-9-]\.[a-z]{2,}+/[\w\-./?=&%#]", _FLAGS)
"""The start of a link as the ``url`` condition sees it (also a bare ``host/path`` such as
``t.cn/Ab12``). Linear: no nested or overlapping quantifiers, the one repeat is possessive, so a
search costs O(len(text)) whatever the text (``"a." * n`` included); proven bounded with the other
patterns of the package (``tests/test_bounded.py``)."""


def has_link(notice: Notice, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Whether ``notice`` holds a link: a URL entity of the parser, or :data:`_LINK` in its text.

    Parameters
    ----------
    notice : Notice
        The notice; its ``entities.urls`` (found by :mod:`icp_notify.entities`) are used first.
    timeout : float
        Seconds allowed for the text search when the text is longer than
        :data:`~icp_notify.bounded.PROVEN_CHARS` (shorter texts need none: the pattern is ours
        and proven bounded).

    Returns
    -------
    bool

    Raises
    ------
    TimeoutError
        The search of a long text ran out of time (the rules report it as
        ``Evidence(timed_out=True)``).

    Examples
    --------
    >>> has_link(Notice(raw_text="x", text="请登录 t.cn/Ab12 查看"))
    True
    >>> has_link(Notice(raw_text="x", text="a." * 30000))
    False
    """
    if notice.entities.urls:
        return True
    text = notice.text
    if len(text) <= PROVEN_CHARS:
        return _LINK.search(text) is not None
    return _LINK.search(text, timeout=timeout) is not None


class Example(BaseModel):
    """One example notice of a rule (a bare string in the file means just ``text``).

    Examples
    --------
    >>> ex = Example(text="【某云】您的网站已取消接入。", sender_type="provider")
    >>> example_notice(ex).sender_type.value
    'provider'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1)
    sender: str | None = None
    sender_type: SenderType = SenderType.UNKNOWN
    channel: Channel = Channel.UNKNOWN
    subject: str | None = None


class _Examples(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    match: tuple[Example, ...] = Field(min_length=1)
    no_match: tuple[Example, ...] = ()

    @field_validator("match", "no_match", mode="before")
    @classmethod
    def _strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"text": v} if isinstance(v, str) else v for v in value]
        return value


class RuleSpec(BaseModel):
    """One ``[[rule]]`` of the rules file, validated (patterns not compiled yet).

    Examples
    --------
    >>> spec = RuleSpec(id="provider.access_cancelled", kind="provider_access_cancelled",
    ...     situation="access_cancelled", patterns=["已取消(?:网站)?接入"], weight=0.97,
    ...     examples={"match": ["您的网站已取消接入。"]})
    >>> spec.examples.match[0].text, spec.weight
    ('您的网站已取消接入。', 0.97)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_.-]*$")
    kind: Kind
    situation: Situation | Literal["generic"]
    description: str = ""
    patterns: tuple[str, ...] = Field(min_length=1)
    unless: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    sender_types: tuple[SenderType, ...] = ()
    channels: tuple[Channel, ...] = ()
    url: Literal["any", "none"] | None = None
    weight: float = Field(gt=0.0, le=1.0)
    examples: _Examples

    @field_validator("situation")
    @classmethod
    def _situation_matches_kind(cls, value: Situation | str, info: Any) -> Situation | str:
        kind = info.data.get("kind")
        if kind is None:
            return value
        expected = KIND_SITUATION[kind]
        want = GENERIC_SITUATION if expected is None else expected.value
        if str(value) != want:
            raise ValueError(f"kind {kind.value!r} implies situation {want!r}, not {str(value)!r}")
        return value


class CompiledRule:
    """A :class:`RuleSpec` with its patterns compiled; matches one notice.

    Parameters
    ----------
    spec : RuleSpec
        The validated rule.
    patterns, unless, senders : sequence of regex.Pattern
        The compiled patterns, vetoes and sender patterns.
    timeout : float
        Seconds allowed per search.
    bounded : bool, default False
        The patterns are proven bounded (``tests/test_bounded.py``): searches of texts up
        to :data:`~icp_notify.bounded.PROVEN_CHARS` characters run without ``timeout``. Only
        :func:`default_rules` sets it, for the shipped rules; a rules file cannot.
    gates : mapping of str to tuple of frozenset of str, optional
        Known :func:`~icp_notify.gates.pattern_gates` by pattern source (the shipped gate
        table, :func:`default_rules`); a source not in it is analysed here.

    Examples
    --------
    >>> rule = default_rules()["miit.generic_change"]
    >>> rule.id, rule.situation, rule.match(example_notice(rule.spec.examples.match[0])).matched
    ('miit.generic_change', None, '备案信息已被变更')
    """

    def __init__(
        self,
        spec: RuleSpec,
        patterns: Sequence[regex.Pattern[str]],
        unless: Sequence[regex.Pattern[str]],
        senders: Sequence[regex.Pattern[str]],
        timeout: float,
        *,
        bounded: bool = False,
        gates: GateTable | None = None,
    ) -> None:
        self.spec = spec
        self.patterns = tuple(patterns)
        self.unless = tuple(unless)
        self.senders = tuple(senders)
        self.timeout = timeout
        self.bounded = bounded
        known = gates or {}

        def gate_of(source: str) -> tuple[frozenset[str], ...]:
            found = known.get(source)
            return pattern_gates(source) if found is None else found

        self._gated: tuple[tuple[regex.Pattern[str], tuple[frozenset[str], ...] | None], ...]
        self._gated = tuple((p, gate_of(p.pattern)) for p in self.patterns)
        self._gated_unless: tuple[
            tuple[regex.Pattern[str], tuple[frozenset[str], ...] | None], ...
        ] = tuple((p, gate_of(p.pattern)) for p in self.unless)

    @property
    def id(self) -> str:
        """The rule id."""
        return self.spec.id

    @property
    def situation(self) -> Situation | None:
        """The situation the rule signals (``None`` for the generic notice)."""
        return KIND_SITUATION[self.spec.kind]

    def _conditions_hold(self, notice: Notice, link: bool | TimeoutError | None = None) -> bool:
        """The non-pattern conditions; ``link`` is :func:`has_link` when already known (its
        ``TimeoutError`` when it timed out: raised again here, not searched again)."""
        spec = self.spec
        if spec.sender_types and notice.sender_type not in spec.sender_types:
            return False
        if spec.channels and notice.channel not in spec.channels:
            return False
        if self.senders:
            sender = notice.sender
            if sender is None:
                return False
            if self.bounded and len(sender) <= PROVEN_CHARS:
                if not any(p.fullmatch(sender) for p in self.senders):
                    return False
            elif not any(p.fullmatch(sender, timeout=self.timeout) for p in self.senders):
                return False
        if spec.url is not None:
            if isinstance(link, TimeoutError):
                raise link
            if link is None:
                link = has_link(notice, self.timeout)
            if link != (spec.url == "any"):
                return False
        return True

    def _evidence(self, **fields: Any) -> Evidence:
        return Evidence(
            source="rule",
            id=self.spec.id,
            detail=self.spec.description,
            situation=self.situation,
            kind=self.spec.kind,
            weight=self.spec.weight,
            **fields,
        )

    def match(self, notice: Notice) -> Evidence | None:
        """Return the evidence of this rule on ``notice``, or ``None`` when it does not apply.

        A search that exceeds the timeout gives ``Evidence(timed_out=True)`` with weight 0.

        Parameters
        ----------
        notice : Notice
            A parsed notice; patterns run on ``notice.text``.

        Returns
        -------
        Evidence or None
        """
        index = gate_index(g for _, g in (*self._gated, *self._gated_unless))
        return self._match(notice, present_strings(lowered(notice.text), index))

    def _match(
        self,
        notice: Notice,
        present: frozenset[str] | None,
        link: bool | TimeoutError | None = None,
    ) -> Evidence | None:
        """:meth:`match`, given the gate strings in the text (``None``: search everything) and
        whether the notice has a link (``None``: find out if needed)."""
        try:
            if not self._conditions_hold(notice, link):
                return None
            text = notice.text
            timeout = None if self.bounded and len(text) <= PROVEN_CHARS else self.timeout
            found = None
            for pattern, gate in self._gated:
                if gate and present is not None and any(map(present.isdisjoint, gate)):
                    continue  # cannot match: a required substring is missing
                found = _search(pattern, text, timeout)
                if found is not None:
                    break
            if found is None:
                return None
            for veto, gate in self._gated_unless:
                if gate and present is not None and any(map(present.isdisjoint, gate)):
                    continue
                if _search(veto, text, timeout) is not None:
                    return None
        except TimeoutError:
            return self._timed_out()
        return self._evidence(span=found.span(), matched=found.group(0))

    def _timed_out(self) -> Evidence:
        """The evidence of a search of this rule that ran out of time."""
        return Evidence(
            source="rule",
            id=self.spec.id,
            detail=f"pattern search timed out after {self.timeout:g} s; rule not applied",
            situation=self.situation,
            kind=self.spec.kind,
            weight=0.0,
            timed_out=True,
        )


def _search(
    pattern: regex.Pattern[str], text: str, timeout: float | None
) -> regex.Match[str] | None:
    """``pattern.search(text)``, with ``timeout=`` unless it is ``None`` (a proven pattern)."""
    if timeout is None:
        return pattern.search(text)
    return pattern.search(text, timeout=timeout)


_GatedPattern = tuple[regex.Pattern[str], int, int, int]
"""A pattern and the bit masks of its (up to three) gates; ``1`` (always set) when ungated."""

_RULE_EVIDENCE_SET = frozenset(
    ("source", "id", "detail", "situation", "kind", "weight", "span", "matched")
)
"""The fields :meth:`CompiledRule._evidence` sets for a match (``timed_out`` left to its default)."""


class _RulePlan:
    """One rule prepared for :meth:`RuleSet.match`: its patterns' gates as bit masks."""

    __slots__ = ("any_pattern", "bounded", "conditions", "patterns", "rule", "unless")

    def __init__(self, rule: CompiledRule, bits: dict[str, int]) -> None:
        spec = rule.spec
        self.rule = rule
        self.bounded = rule.bounded
        self.conditions = bool(
            spec.sender_types or spec.channels or rule.senders or spec.url is not None
        )
        self.patterns = tuple(_masked(p, g, bits) for p, g in rule._gated)
        self.unless = tuple(_masked(p, g, bits) for p, g in rule._gated_unless)
        any_pattern = 0
        for _, m1, _, _ in self.patterns:
            any_pattern |= m1
        if rule.senders:  # a sender search may time out: always check the conditions
            any_pattern |= 1
        self.any_pattern = any_pattern

    def evidence(self, found: regex.Match[str]) -> Evidence:
        """:meth:`CompiledRule._evidence` of a match, without validating our own values."""
        rule = self.rule
        spec = rule.spec
        if type(spec.weight) is not float:  # pragma: no cover - RuleSpec makes it a float
            return rule._evidence(span=found.span(), matched=found.group(0))
        # the values Evidence(...) would validate to: str, members, float, (int, int), str
        return construct_trusted(
            Evidence,
            {
                "source": "rule",
                "id": spec.id,
                "detail": spec.description,
                "situation": KIND_SITUATION[spec.kind],
                "kind": spec.kind,
                "span": found.span(),
                "matched": found.group(0),
                "weight": spec.weight,
                "timed_out": False,
            },
            _RULE_EVIDENCE_SET,
        )


def _masked(
    pattern: regex.Pattern[str], gate: tuple[frozenset[str], ...] | None, bits: dict[str, int]
) -> _GatedPattern:
    """``pattern`` with the masks of its gate's conditions (each must meet the text's bits)."""
    masks = [functools.reduce(operator.or_, (bits[s] for s in option), 0) for option in gate or ()]
    if not masks:
        return pattern, 1, 1, 1
    masks += [masks[0]] * (3 - len(masks))
    return pattern, masks[0], masks[1], masks[2]


def _plan(
    rules: Sequence[CompiledRule],
) -> tuple[dict[str, int], dict[str, tuple[tuple[str, int], ...]], tuple[_RulePlan, ...]]:
    """One bit (from bit 1) per gate string; the strings by first character; the rule plans."""
    strings = sorted(
        {
            string
            for rule in rules
            for _, gate in (*rule._gated, *rule._gated_unless)
            for option in gate or ()
            for string in option
        }
    )
    bits = {string: 1 << i for i, string in enumerate(strings, start=1)}
    index: dict[str, list[tuple[str, int]]] = {}
    for string, bit in bits.items():
        index.setdefault(string[0], []).append((string, bit))
    plans = tuple(_RulePlan(rule, bits) for rule in rules)
    return bits, {ch: tuple(items) for ch, items in index.items()}, plans


class RuleSet:
    """The compiled rules of one rules file.

    Use :meth:`load` (or :func:`default_rules` for the shipped file) rather than the constructor.

    Parameters
    ----------
    rules : sequence of CompiledRule
        The rules, in file order.
    path : str
        Where they were loaded from.

    Examples
    --------
    >>> rules = default_rules()
    >>> rules["miit.generic_change"].spec.kind.value, len(rules) == len(rules.rules)
    ('change_notice_generic', True)
    """

    def __init__(self, rules: Sequence[CompiledRule], path: str = "<memory>") -> None:
        self.rules = tuple(rules)
        self.path = path
        self._by_id = {r.id: r for r in self.rules}
        self._gate_index = gate_index(
            g for r in self.rules for _, g in (*r._gated, *r._gated_unless)
        )
        self._needs_link = any(r.spec.url is not None for r in self.rules)
        self._link_timeout = max((r.timeout for r in self.rules), default=DEFAULT_TIMEOUT)
        self._bits, self._bit_index, self._plans = _plan(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, rule_id: str) -> CompiledRule:
        return self._by_id[rule_id]

    def __repr__(self) -> str:
        return f"RuleSet({len(self.rules)} rules from {self.path!r})"

    @classmethod
    def load(cls, path: str | Path) -> RuleSet:
        """Load, validate and compile a rules file.

        Parameters
        ----------
        path : str or Path
            A TOML rules file.

        Returns
        -------
        RuleSet

        Raises
        ------
        RuleFileError
            The file is missing, not TOML, or a rule is invalid; the error names the file, the
            rule id and the field.

        Examples
        --------
        >>> from icp_notify.rules import RuleSet, default_rules
        >>> len(RuleSet.load(default_rules().path)) == len(default_rules())
        True
        """
        return cls.from_dict(_read(path), path=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, path: str = "<memory>") -> RuleSet:
        """Validate and compile rules already read from TOML (see :meth:`load`).

        Parameters
        ----------
        data : dict
            The rules document (``version``, ``timeout``, ``[[rule]]`` tables).
        path : str, default "<memory>"
            Name used in error messages.

        Returns
        -------
        RuleSet

        Raises
        ------
        RuleFileError
            An unknown key, an unsupported version, a bad timeout, no rules, an invalid or
            duplicate rule, or a pattern that does not compile.

        Examples
        --------
        >>> from icp_notify.models import Notice
        >>> rules = RuleSet.from_dict({"timeout": 0.01, "rule": [{"id": "demo.first_review",
        ...     "kind": "progress", "situation": "other", "patterns": ["初审通过"],
        ...     "weight": 0.6, "examples": {"match": ["初审通过"]}}]})
        >>> [e.id for e in rules.match(Notice(raw_text="x", text="您的备案初审通过"))]
        ['demo.first_review']
        >>> rules["demo.first_review"].bounded  # a file's searches always run with its timeout
        False
        """
        return cls(_compiled_rules(data, path, bounded=False), path=path)

    def match(self, notice: Notice) -> tuple[Evidence, ...]:
        """Run every rule on ``notice``.

        Parameters
        ----------
        notice : Notice
            A parsed notice; patterns run on ``notice.text``.

        Returns
        -------
        tuple of Evidence
            One item per matching rule (rule id, situation, kind, span in ``notice.text``, the
            matched text, weight) and per rule that timed out (``timed_out=True``), in file order.

        Examples
        --------
        >>> from icp_notify.parse import parse
        >>> notice = parse("【工业和信息化部】尊敬的用户，您的网站备案（京ICP备12345678号）"
        ...                "已被注销，如有疑问请联系接入服务提供商。", channel="sms")
        >>> evidence = default_rules().match(notice)
        >>> sorted({e.kind.value for e in evidence if not e.timed_out})
        ['filing_cancelled']
        >>> [e.matched for e in evidence if e.kind.value == "filing_cancelled"][0]
        '网站备案(京ICP备12345678号)已被注销'
        """
        text = notice.text
        low = lowered(text)
        link: bool | TimeoutError | None = None
        if self._needs_link:  # once per notice, not once per rule with a url condition
            try:
                link = has_link(notice, self._link_timeout)
            except TimeoutError as exc:
                link = exc  # each rule with a url condition reports Evidence(timed_out=True)
        if low is None or isinstance(link, TimeoutError):  # the general path
            present = present_strings(low, self._gate_index)
            results = (rule._match(notice, present, link) for rule in self.rules)
            return tuple(e for e in results if e is not None)
        # The same results, visiting only the rules and patterns whose gates hold: the gate
        # strings present in the text are one bit mask (bit 0 always set), each gate one mask.
        bits = 1
        index = self._bit_index
        for ch in index.keys() & set(low):
            for string, bit in index[ch]:
                if string in low:
                    bits |= bit
        out: list[Evidence] = []
        short = len(text) <= PROVEN_CHARS  # within the proof: proven rules need no timeout
        for plan in self._plans:
            if not bits & plan.any_pattern:
                continue  # no pattern's gate holds (and no condition can time out)
            rule = plan.rule
            untimed = short and plan.bounded
            try:
                if plan.conditions and not rule._conditions_hold(notice, link):
                    continue
                found = None
                for pattern, m1, m2, m3 in plan.patterns:
                    if bits & m1 and bits & m2 and bits & m3:
                        found = (
                            pattern.search(text)
                            if untimed
                            else pattern.search(text, timeout=rule.timeout)
                        )
                        if found is not None:
                            break
                if found is None:
                    continue
                vetoed = False
                for pattern, m1, m2, m3 in plan.unless:
                    if (
                        bits & m1
                        and bits & m2
                        and bits & m3
                        and (
                            pattern.search(text)
                            if untimed
                            else pattern.search(text, timeout=rule.timeout)
                        )
                        is not None
                    ):
                        vetoed = True
                        break
            except TimeoutError:
                out.append(rule._timed_out())
                continue
            if not vetoed:
                out.append(plan.evidence(found))
        return tuple(out)

    def check_examples(self) -> list[str]:
        """Run every rule on its own examples; return one message per failure (empty if fine).

        Returns
        -------
        list of str
            ``"<rule id>: should (not) match: <text>"`` per failing example.

        Examples
        --------
        >>> default_rules().check_examples()
        []
        """
        problems: list[str] = []
        for rule in self.rules:
            for expected, examples in (
                (True, rule.spec.examples.match),
                (False, rule.spec.examples.no_match),
            ):
                for example in examples:
                    evidence = rule.match(example_notice(example))
                    got = evidence is not None and not evidence.timed_out
                    if got != expected:
                        verb = "should match" if expected else "should not match"
                        problems.append(f"{rule.id}: {verb}: {example.text}")
        return problems


def example_notice(example: Example, text: str | None = None) -> Notice:
    """Build the :class:`Notice` a rule example stands for (``text`` overrides the example's).

    Parameters
    ----------
    example : Example
        A rule example from ``rules.toml``.
    text : str, optional
        The normalized text to use instead of ``example.text``.

    Returns
    -------
    Notice

    Examples
    --------
    >>> example_notice(Example(text="您的验证码为123456")).text
    '您的验证码为123456'
    """
    body = example.text if text is None else text
    return Notice(
        raw_text=example.text,
        text=body,
        sender=example.sender,
        sender_type=example.sender_type,
        channel=example.channel,
        subject=example.subject,
    )


def _read(path: str | Path) -> dict[str, Any]:
    """The TOML document of a rules file (:class:`RuleFileError` when it cannot be read)."""
    return _read_with_digest(path)[0]


def _read_with_digest(
    path: str | Path, *, parsed: Path | None = None
) -> tuple[dict[str, Any], str]:
    """:func:`_read` and the sha256 (hex) of the bytes it read; ``parsed``: a JSON copy of the
    document (:data:`PARSED_RULES_NAME`), used instead of parsing the TOML when it was derived
    from these very bytes."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if parsed is not None:
            document = read_parsed_rules(parsed, digest)
            if document is not None:
                return document, digest
        return tomllib.loads(data.decode("utf-8")), digest
    except OSError as exc:
        raise RuleFileError(name, f"cannot read the rules file: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleFileError(name, f"not valid TOML: {exc}") from exc


PARSED_RULES_NAME = "rules_parsed.json"
"""``rules.toml`` as JSON, shipped next to it (``icp_notify/data``): the document ``tomllib``
reads from it, with the sha256 of the TOML file's bytes. :func:`default_rules` reads it instead of
parsing the TOML (≈ 5 M instructions instead of ≈ 66 M at start-up) when it was derived from those
very bytes; a missing, malformed or stale copy means the TOML is parsed. Written with the gate
table by ``python -m icp_notify.gates`` after editing ``rules.toml``
(``tests/test_rules_parsed.py`` fails until it is)."""


def dump_parsed_rules(document: dict[str, Any], rules_sha256: str) -> str:
    """The JSON text of :data:`PARSED_RULES_NAME` for a rules document read from a file whose bytes
    have this sha256."""
    body = {"rules_sha256": rules_sha256, "document": document}
    return json.dumps(body, ensure_ascii=False, indent=1) + "\n"


def read_parsed_rules(path: Path, rules_sha256: str) -> dict[str, Any] | None:
    """The document of the JSON copy at ``path`` when derived from the rules file with this
    sha256, else ``None`` (missing, unreadable, malformed or stale)."""
    body = read_derived(path, "rules_sha256", rules_sha256)
    document = None if body is None else body.get("document")
    return document if isinstance(document, dict) else None


def _compiled_rules(
    data: dict[str, Any], path: str, *, bounded: bool, gates: GateTable | None = None
) -> list[CompiledRule]:
    """Validate and compile a rules document (see :meth:`RuleSet.from_dict`)."""
    unknown = set(data) - {"version", "timeout", "rule"}
    if unknown:
        raise RuleFileError(path, "unknown top-level key", field=sorted(unknown)[0])
    if data.get("version", 1) != 1:
        raise RuleFileError(path, "unsupported version (expected 1)", field="version")
    timeout = data.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise RuleFileError(path, "must be a positive number of seconds", field="timeout")
    raw_rules = data.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RuleFileError(path, "no [[rule]] tables", field="rule")
    compiled: list[CompiledRule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rule_id = str(raw.get("id", f"#{index + 1}")) if isinstance(raw, dict) else f"#{index}"
        try:
            spec = RuleSpec.model_validate(raw)
        except ValidationError as exc:
            # a misspelt key also makes the real key "missing": report the misspelling
            err = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
            loc = ".".join(str(p) for p in err["loc"]) or "rule"
            raise RuleFileError(path, err["msg"], item=rule_id, field=loc) from None
        if spec.id in seen:
            raise RuleFileError(path, "duplicate rule id", item=spec.id, field="id")
        seen.add(spec.id)
        compiled.append(
            CompiledRule(
                spec,
                _compile(path, spec.id, "patterns", spec.patterns, lazy=bounded),
                _compile(path, spec.id, "unless", spec.unless, lazy=bounded),
                _compile(path, spec.id, "senders", spec.senders, lazy=bounded),
                float(timeout),
                bounded=bounded,
                gates=gates,
            )
        )
    return compiled


def _compile(
    path: str, rule_id: str, field: str, patterns: Sequence[str], *, lazy: bool = False
) -> list[regex.Pattern[str]]:
    """Compile a rule's patterns; ``lazy`` (the shipped rules only) defers each to its first use."""
    out = []
    for i, source in enumerate(patterns):
        if lazy:
            out.append(cast("regex.Pattern[str]", _LazyPattern(source, _FLAGS)))
            continue
        try:
            out.append(regex.compile(source, _FLAGS))
        except regex.error as exc:
            raise RuleFileError(
                path, f"invalid regular expression: {exc}", item=rule_id, field=f"{field}[{i}]"
            ) from None
    return out


class _LazyPattern:
    """A shipped rule pattern compiled on its first use (most never run: their gates fail).

    It stands in for the compiled :class:`regex.Pattern`: ``pattern`` is the source as the file
    writes it, and the first ``search``/``fullmatch``/``finditer`` compiles it (through
    :func:`_engine_source`, an exact rewrite) and puts the compiled pattern's own
    bound methods on the instance, so later calls go straight to them. Only :func:`default_rules`
    makes these: every shipped pattern is compiled by the tests (``tests/test_bounded.py``,
    the rule examples), so a pattern that does not compile cannot ship; a user's rules file is
    compiled, and so validated, when it is loaded.
    """

    def __init__(self, source: str, flags: int) -> None:
        self.pattern = source
        self.flags = flags

    @property
    def compiled(self) -> regex.Pattern[str]:
        """The compiled pattern (compiled now if it was not yet)."""
        found = self.__dict__.get("_compiled")
        if found is None:
            found = regex.compile(_engine_source(self.pattern), self.flags)
            self.__dict__.update(
                _compiled=found,
                search=found.search,
                fullmatch=found.fullmatch,
                finditer=found.finditer,
                match=found.match,
            )
        return cast("regex.Pattern[str]", found)

    def search(self, *args: Any, **kwargs: Any) -> regex.Match[str] | None:
        """:meth:`regex.Pattern.search` (compiles first)."""
        return self.compiled.search(*args, **kwargs)

    def fullmatch(self, *args: Any, **kwargs: Any) -> regex.Match[str] | None:
        """:meth:`regex.Pattern.fullmatch` (compiles first)."""
        return self.compiled.fullmatch(*args, **kwargs)

    def match(self, *args: Any, **kwargs: Any) -> regex.Match[str] | None:
        """:meth:`regex.Pattern.match` (compiles first)."""
        return self.compiled.match(*args, **kwargs)

    def finditer(self, *args: Any, **kwargs: Any) -> Any:
        """:meth:`regex.Pattern.finditer` (compiles first)."""
        return self.compiled.finditer(*args, **kwargs)

    def __repr__(self) -> str:
        return f"_LazyPattern({self.pattern!r})"


@functools.cache
def default_rules() -> RuleSet:
    """Return the shipped rules (``icp_notify/data/rules.toml``), loaded once.

    Returns
    -------
    RuleSet
        The same object on every call.

    Examples
    --------
    >>> default_rules() is default_rules()
    True
    """
    ref = resources.files("icp_notify") / "data" / "rules.toml"
    with resources.as_file(ref) as path:
        # the document from its JSON copy when that was derived from this very file (by its
        # sha256; tests/test_rules_parsed.py): tomllib costs ≈ 13x more at start-up
        data, digest = _read_with_digest(path, parsed=Path(path).with_name(PARSED_RULES_NAME))
        # the gates of the shipped patterns, derived from this very file (by its sha256) and
        # shipped with it (tests/test_gates_table.py): no pattern is parsed for its gates here;
        # a missing or stale table means each pattern is analysed, as for any rules file
        gates = read_gate_table(Path(path).with_name(GATE_TABLE_NAME), digest)
        # ours, and proven bounded by tests/test_bounded.py: no per-call timeout on
        # texts up to PROVEN_CHARS (a file loaded with RuleSet.load keeps it, even this one)
        compiled = _compiled_rules(data, str(path), bounded=True, gates=gates)
        return RuleSet(compiled, path=str(path))
