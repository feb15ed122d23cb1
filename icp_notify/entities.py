"""Entity extraction from normalised notice text.

Every pattern is compiled once (lazily, on first use) with the :mod:`regex` module. On a text of
at most :data:`~icp_notify.bounded.PROVEN_CHARS` characters it runs without a timeout (each pattern
is proven bounded there by ``tests/test_bounded.py``); on a longer text with ``timeout=``,
and a timeout becomes a :class:`~icp_notify.models.Defect`, never an exception.
Providers and MIIT sender markers come from ``data/providers.toml`` (see :mod:`icp_notify.providers`;
its public names are importable from here too).

Entity kinds (see :class:`~icp_notify.models.Entities`): ICP numbers, value-added licences,
public-security numbers, domains, IPs, providers, verification codes, URLs, dates, durations
and phone numbers.

Examples
--------
>>> ents, defects = extract("域名example.cn已接入阿里云，备案号京ICP备2024012345号-3。")
>>> [n.canonical for n in ents.icp_numbers], [d.name for d in ents.domains]
(['京ICP备2024012345号-3'], ['example.cn'])
>>> ents.provider.name, defects
('阿里云', ())
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import regex

from icp_notify.bounded import PROVEN_CHARS
from icp_notify.lazyre import lazy_pattern
from icp_notify.models import (
    DateMention,
    Defect,
    Domain,
    DurationMention,
    Entities,
    IcpNumber,
    IpAddress,
    Licence,
    ProviderMention,
    PublicSecurityNumber,
    Recipient,
    Url,
    VerificationCode,
    construct_trusted,
)
from icp_notify.providers import (
    ProviderTable,
    is_plain,
    provider_aliases,
    provider_for_alias,
    provider_for_sender,
    provider_gate,
    provider_in_signature,
    provider_table,
)

__all__ = [
    "CN_TLDS",
    "PROVINCES",
    "PROVINCE_ALIASES",
    "REGEX_TIMEOUT",
    "TLDS",
    "ProviderTable",
    "extract",
    "extract_recipient",
    "extract_urls",
    "provider_aliases",
    "provider_for_sender",
    "provider_in_signature",
    "provider_table",
]

REGEX_TIMEOUT = 0.5
"""Seconds one pattern may spend on a text longer than :data:`~icp_notify.bounded.PROVEN_CHARS`
before the match is abandoned (a Defect); shorter texts are searched without a timeout."""

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
"""The canonical one-character province abbreviations used in filing numbers."""

PROVINCE_ALIASES: dict[str, str] = {
    "蜀": "川",
    "陇": "甘",
    "黔": "贵",
    "滇": "云",
    "粵": "粤",
    "秦": "陕",
    "申": "沪",
}
"""Alternate province abbreviations and their canonical form."""

_PROV = "[" + PROVINCES + "".join(PROVINCE_ALIASES) + "]"

# Top-level domains accepted for bare domains (a URL's host is accepted whatever its TLD).
# A whitelist keeps file names (a.jpg, index.html, readme.md) out.
TLDS: tuple[str, ...] = (
    "com",
    "net",
    "org",
    "cn",
    "gov",
    "edu",
    "info",
    "biz",
    "xyz",
    "top",
    "vip",
    "club",
    "site",
    "online",
    "shop",
    "store",
    "tech",
    "io",
    "co",
    "me",
    "cc",
    "tv",
    "ai",
    "app",
    "dev",
    "cloud",
    "link",
    "live",
    "pro",
    "name",
    "mobi",
    "asia",
    "wang",
    "ltd",
    "work",
    "fun",
    "icu",
    "ink",
    "art",
    "red",
    "group",
    "kim",
    "pub",
    "chat",
    "life",
    "world",
    "today",
    "email",
    "space",
    "website",
    "press",
    "host",
    "games",
    "news",
    "blog",
    "design",
    "fit",
    "love",
    "plus",
    "run",
    "show",
    "social",
    "team",
    "tips",
    "tools",
    "zone",
    "center",
    "city",
    "company",
    "email",
    "fans",
    "games",
    "hk",
    "mo",
    "tw",
    "jp",
    "kr",
    "us",
    "uk",
    "de",
    "fr",
    "ru",
    "sg",
    "ca",
    "au",
    "in",
    "nl",
    "it",
    "es",
    "eu",
    "se",
    "ch",
    "int",
    "mil",
)
"""Top-level domains accepted for bare domains (also the tokenizer's placeholder TLDs)."""
_DOMAIN_LEADS = (
    "域名",
    "网站",
    "网址",
    "站点",
    "您的",
    "的",
    "是",
    "为",
    "及",
    "和",
    "与",
    "将",
    "在",
    "请",
    "访问",
    "备案",
)
CN_TLDS: tuple[str, ...] = (
    "中国",
    "中國",
    "公司",
    "网络",
    "在线",
    "中文网",
    "网址",
    "网店",
    "商城",
    "集团",
    "我爱你",
    "移动",
    "信息",
    "政务",
    "公益",
)
"""Chinese top-level domains accepted after a Han or ASCII label (``例子.中国``)."""

_Pattern = regex.Pattern[str]
_T = TypeVar("_T")

_make = construct_trusted
"""Every entity model here is built from values its validation would return unchanged (str from
a match, ints and dates built here, tuples of models built here, every field given, in field
order): without validating them again. tests/test_entities_trusted.py validates every corpus
notice's entities and compares."""


@functools.cache
def _sources() -> dict[str, tuple[str, int]]:
    """Every entity pattern's source and flags (compiled one by one, on first use: :func:`_pattern`)."""
    tlds = "|".join(sorted(set(TLDS), key=len, reverse=True))
    cn_tlds = "|".join(sorted(CN_TLDS, key=len, reverse=True))
    label = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    cn_label = r"[\p{Han}a-z0-9](?:[\p{Han}a-z0-9-]{0,30}[\p{Han}a-z0-9])?"
    flags = regex.IGNORECASE | regex.VERSION1
    return {
        "icp": (
            rf"(?P<prov>{_PROV})\s?ICP\s?(?P<type>[备证])\s?(?P<num>\d{{5,10}})(?!\d)\s?(?P<hao>号)?"
            r"(?:(?<=号)\s?-\s?(?P<site>\d{1,3})(?!\d))?",
            flags,
        ),
        "psb": (rf"(?P<prov>{_PROV})\s?公网安备\s?(?P<num>\d{{8,16}})(?!\d)\s?号?", flags),
        # possessive: a category never gives back a "、A1" (what follows is a space or "-"),
        # and a long run of them is not backtracked one by one (quadratic in the regex module)
        "licence": (
            rf"(?P<prov>{_PROV})(?P<cat>[AB][12](?:[.、][AB][12])*+)\s?-\s?(?P<num>\d{{6,10}})(?!\d)",
            regex.VERSION1,
        ),
        "url": (
            r"(?<![A-Za-z0-9])(?:(?:https?|ftp)://|www\.)"
            r"[^\s<>\"'，。；！？、）（【】《》「」\p{Han}]+",
            flags,
        ),
        # The labels, then the whole last run of label characters, which must be a TLD (the
        # lookbehind): what "(?:label\.)+(?:TLD)(?![A-Za-z0-9-]|\.[A-Za-z0-9])" matches (its TLD
        # can only be that whole run), without backtracking label by label through a long run
        # of them when no TLD ends it (quadratic in the regex module: "a." * n).
        "domain": (
            rf"(?<![A-Za-z0-9_@./-])(?>(?:{label}\.)+[a-z0-9][a-z0-9-]*)"
            rf"(?<=\.(?:{tlds}|xn--[a-z0-9-]{{2,59}}))(?![A-Za-z0-9-]|\.[A-Za-z0-9])",
            flags,
        ),
        # A Han TLD may be followed by more Han text, so the TLD is looked for label by label;
        # at most 126 labels before it (a domain name has at most 127), which keeps that
        # backtracking bounded on a long run of labels.
        "cn_domain": (
            rf"(?<![\p{{Han}}A-Za-z0-9_@./-])(?:{cn_label}\.){{1,126}}(?:{cn_tlds}|cn|com|net)(?![A-Za-z0-9-]|\.[A-Za-z0-9])",
            flags,
        ),
        "ipv4": (r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)", 0),
        "ipv6": (
            r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])",
            0,
        ),
        "code": (
            r"(?:验证码|校验码|核验码|动态码|确认码|短信码|授权码|激活码|verification code|code)"
            r"\s?(?:为|是|:|：|is)?\s?[:：]?\s?(?P<code>[A-Za-z0-9]{4,8})(?![A-Za-z0-9])",
            flags,
        ),
        "date_ymd": (
            r"(?<!\d)(?P<y>(?:19|20)\d{2})\s?年\s?(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?[日号]"
            r"(?:\s?(?P<H>\d{1,2})\s?[:：时点]\s?(?P<M>\d{2})?(?:\s?[:：分]\s?(?P<S>\d{2}))?)?",
            0,
        ),
        "date_iso": (
            r"(?<![\d.\-/])(?P<y>(?:19|20)\d{2})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?![\d])"
            r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?!\d))?",
            0,
        ),
        "date_md": (
            r"(?<![\d年])(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?[日号](?!\d)"
            r"(?:\s?(?P<H>\d{1,2})\s?[:：时点]\s?(?P<M>\d{2})?)?",
            0,
        ),
        "duration": (
            r"(?P<n>(?<![\d.])\d{1,6}(?:\.\d{1,3})?|(?<![一二两三四五六七八九十百半])[一二两三四五六七八九十百半]{1,4})\s?"
            r"(?P<unit>个工作日|工作日|个小时|小时|分钟|个自然日|自然日|天|日|个星期|星期|周|个月|秒)"
            r"(?P<within>\s?(?:以内|之内|内))?",
            0,
        ),
        "mobile": (r"(?<![\d*])(?:\+?86[-\s]?)?1[3-9]\d[\d*xX＊]{4}\d{4}(?![\d*])", 0),
        "landline": (
            r"(?<![\d-])(?:0\d{2,3}-\d{7,8}|[48]00-?\d{3}-?\d{4}|95\d{3,4}(?=\D|$))(?![\d-])",
            0,
        ),
        "recipient": (
            r"(?:尊敬的|亲爱的|Dear)\s?(?:(?:用户|客户|会员|先生|女士)\s?[:：]?\s?)?"
            r"(?P<name>[\p{Han}A-Za-z0-9_*＊·.@-]{1,24}?)\s?(?P<role>用户|客户|会员|先生|女士|同学|老师)?"
            r"(?=\s?[,，:：!！。\n]|\s?您好|$)"
            r"|(?:您好|你好)\s?[,，]?\s?(?P<name2>[\p{Han}A-Za-z*＊]{2,12})(?=\s?[,，:：!！\n])"
            r"|^(?P<name3>[\p{Han}*＊]{2,6})\s?[,，]?\s?(?:您好|你好)",
            regex.IGNORECASE | regex.VERSION1 | regex.MULTILINE,
        ),
    }


@functools.cache
def _pattern(name: str) -> _Pattern:
    """The entity pattern ``name``, compiled on its first use (a classification needs only the
    URL pattern; a short-lived process compiles no other)."""
    source, flags = _sources()[name]
    return regex.compile(source, flags)


def _patterns() -> dict[str, _Pattern]:
    """Every entity pattern, compiled (the same objects :func:`_pattern` returns)."""
    return {name: _pattern(name) for name in _sources()}


# --------------------------------------------------------------------------- helpers


def _may_be_licence(t: str) -> bool:
    # [AB][12] … - …, case-sensitive
    return "-" in t and ("B2" in t or "B1" in t or "A2" in t or "A1" in t)


def _may_be_date_iso(t: str) -> bool:
    # (?:19|20)\d{2}, then one separator [-/.] twice
    return ("20" in t or "19" in t) and (
        t.count("-") >= 2 or t.count("/") >= 2 or t.count(".") >= 2
    )


def _may_be_mobile(t: str) -> bool:
    # 1[3-9]
    return "13" in t or "15" in t or "18" in t or "17" in t or "19" in t or "16" in t or "14" in t


def _may_be_landline(t: str) -> bool:
    # 0\d{2,3}-… | [48]00… | 95…
    return ("-" in t and "0" in t) or "400" in t or "800" in t or "95" in t


def _may_be_duration(t: str) -> bool:
    # every unit holds one of 日 时 天 月 周 分钟 星期 秒
    return (
        "日" in t
        or "时" in t
        or "天" in t
        or "月" in t
        or "周" in t
        or "分钟" in t
        or "星期" in t
        or "秒" in t
    )


# Cheap substring tests that skip a pattern which cannot match (most notices are short and
# hold two or three kinds of entity); each gate is implied by its pattern: a literal the
# pattern must match (its flags cannot fold Han or ASCII digits and punctuation), or a count
# of literal characters it must match (ipv4: three dots; ipv6: two colons).
# tests/test_parse_speed_gates.py runs every pattern with and without its gate.
_GATES: dict[str, Callable[[str], bool]] = {
    "icp": lambda t: "icp" in t.lower(),
    "psb": lambda t: "公网安备" in t,
    "licence": _may_be_licence,
    "url": lambda t: "://" in t or "www." in t.lower(),
    "domain": lambda t: "." in t,
    "cn_domain": lambda t: "." in t,
    "ipv4": lambda t: t.count(".") >= 3,
    "ipv6": lambda t: t.count(":") >= 2,
    "code": lambda t: "码" in t or "code" in t.lower(),
    "date_ymd": lambda t: "年" in t and "月" in t,
    "date_iso": _may_be_date_iso,
    "date_md": lambda t: "月" in t,
    "duration": _may_be_duration,
    "mobile": _may_be_mobile,
    "landline": _may_be_landline,
}


# Where a domain can start. Every match of "domain" and "cn_domain" begins with a label (1 to 63,
# resp. 32, label characters) followed by "." and then by a label character (of the next label
# or of the TLD), right after a character of its look-behind class, which holds every label
# character. So a match starts only where a maximal run of label characters of that length is
# followed by "." and a label character: the stdlib finds those starts (each a match of these
# patterns, which cannot overlap a true start), and the pattern is tried at each start only
# (``match``), which gives the matches ``finditer`` gives without trying every position.
# The classes spell out what the patterns' classes hold under their flags (IGNORECASE with full
# case folding adds İ, ſ and the Kelvin sign to ``[a-z]``; ``\p{Han}`` is the regex module's);
# tests/test_entities_domain_starts.py checks them against the regex module, code point by
# code point.
_HAN_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2E99), (0x2E9B, 0x2EF3), (0x2F00, 0x2FD5), (0x3005, 0x3005), (0x3007, 0x3007),
    (0x3021, 0x3029), (0x3038, 0x303B), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFA6D),
    (0xFA70, 0xFAD9), (0x16FE2, 0x16FE3), (0x16FF0, 0x16FF6), (0x20000, 0x2A6DF),
    (0x2A700, 0x2B81E), (0x2B820, 0x2CEAD), (0x2CEB0, 0x2EBE0), (0x2EBF0, 0x2EE5D),
    (0x2F800, 0x2FA1D), (0x30000, 0x3134A), (0x31350, 0x33479),
)  # fmt: skip
r"""The code points of the regex module's ``\p{Han}`` (the same with IGNORECASE)."""
_HAN_CLASS = "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in _HAN_RANGES)
_LABEL_CLASS = "A-Za-z0-9\\-\u0130\u017f\u212a"
"""``[a-z0-9-]`` with IGNORECASE and full case folding (VERSION1), as a stdlib class."""
_DOMAIN_STARTS = lazy_pattern(
    globals(), re.compile, rf"(?<![{_LABEL_CLASS}])[{_LABEL_CLASS}]{{1,63}}\.(?=[{_LABEL_CLASS}])"
)
_CN_DOMAIN_STARTS = lazy_pattern(
    globals(),
    re.compile,
    rf"(?<![{_HAN_CLASS}{_LABEL_CLASS}])[{_HAN_CLASS}{_LABEL_CLASS}]{{1,32}}\.(?=[{_HAN_CLASS}{_LABEL_CLASS}])",
)


def _finditer_at_starts(
    pattern: _Pattern, starts: re.Pattern[str], text: str
) -> list[regex.Match[str]]:
    """``list(pattern.finditer(text))`` when every match of ``pattern`` starts where a match of
    ``starts`` does: ``pattern`` is tried at those starts only, from the end of its last match."""
    out: list[regex.Match[str]] = []
    pos = 0
    match = pattern.match
    for start in starts.finditer(text):
        at = start.start()
        if at >= pos and (m := match(text, at)) is not None:
            out.append(m)
            pos = m.end()
    return out


def _finditer(
    name: str, text: str, defects: list[Defect], pattern: _Pattern | None = None
) -> list[regex.Match[str]]:
    """The matches of pattern ``name`` in ``text`` (those found before a timeout, if one)."""
    found: list[regex.Match[str]] = []
    gate = _GATES.get(name)
    if gate is not None and not gate(text):
        return found
    pat = pattern if pattern is not None else _pattern(name)
    if len(text) <= PROVEN_CHARS:  # proven bounded: no timeout (tests/test_bounded.py)
        if pattern is None and name == "domain":
            return _finditer_at_starts(pat, _DOMAIN_STARTS, text)
        if pattern is None and name == "cn_domain":
            return _finditer_at_starts(pat, _CN_DOMAIN_STARTS, text)
        return list(pat.finditer(text))
    try:
        for m in pat.finditer(text, timeout=REGEX_TIMEOUT):
            found.append(m)
    except TimeoutError:
        defects.append(
            Defect(
                code="regex_timeout",
                message=f"the {name} pattern timed out; {name} entities may be incomplete",
            )
        )
    return found


_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _cn_number(text: str) -> float | None:
    """Parse a small number written in digits or Chinese numerals (一 … 九十九, 半)."""
    if text[0].isdigit():
        try:
            return float(text)
        except ValueError:
            return None
    if text == "半":
        return 0.5
    if text == "百" or "百" in text:
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        t = _CN_DIGITS.get(tens) if tens else 1
        o = _CN_DIGITS.get(ones) if ones else 0
        if t is None or o is None:
            return None
        return float(t * 10 + o)
    if len(text) == 1 and text in _CN_DIGITS:
        return float(_CN_DIGITS[text])
    return None


_UNIT_SECONDS = {
    "个工作日": 86400, "工作日": 86400, "个自然日": 86400, "自然日": 86400, "天": 86400, "日": 86400,
    "个小时": 3600, "小时": 3600, "分钟": 60, "秒": 1,
    "个星期": 7 * 86400, "星期": 7 * 86400, "周": 7 * 86400, "个月": 30 * 86400,
}  # fmt: skip


def _time(h: str | None, m: str | None, s: str | None) -> dt.time | None:
    if h is None:
        return None
    try:
        return dt.time(int(h), int(m or 0), int(s or 0))
    except ValueError:
        return None


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in taken)


def _lead_cut(label: str) -> int:
    """Where a Han domain label starts inside a Han run: after the last lead word (域名, 网站,
    的 …) that still leaves a label behind (so 网站中文域名 → 中文域名, not nothing); 0 when no
    lead does."""
    cut = 0
    for w in _DOMAIN_LEADS:
        at = label.find(w)
        while at != -1:
            end = at + len(w)
            if cut < end < len(label):
                cut = end
            at = label.find(w, at + 1)
    return cut


def _domain(name: str) -> Domain | None:
    forms = _domain_forms(name.lower().rstrip("."))
    return None if forms is None else _make(Domain, {"name": forms[0], "ascii": forms[1]})


@functools.lru_cache(maxsize=1024)
def _domain_forms(name: str) -> tuple[str, str] | None:
    """``(Unicode form, IDNA form)`` of a lower-cased domain; ``None`` if IDNA refuses it."""
    try:
        if "xn--" in name:
            return name.encode("ascii").decode("idna"), name
        return name, name.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return None


# --------------------------------------------------------------------------- extraction


def extract(
    text: str, *, reference: dt.datetime | None = None, spans: bool = True
) -> tuple[Entities, tuple[Defect, ...]]:
    """Extract every entity from normalised text.

    Parameters
    ----------
    text : str
        Normalised text (see :func:`icp_notify.normalize.normalize_text`); full-width digits must
        already be folded.
    reference : datetime, optional
        When the notice was received; fills in the year of dates written without one (3月1日).
    spans : bool, default True
        Record ICP-number spans (off for text that is not ``Notice.text``, e.g. the subject).

    Returns
    -------
    tuple of (Entities, tuple of Defect)
        The entities in order of appearance (duplicates removed) and any regex timeouts.

    Examples
    --------
    >>> e, _ = extract("京公网安备11010502000001号 京B2-20201234 请在24小时内访问 https://beian.miit.gov.cn/x")
    >>> e.public_security_numbers[0].number, e.icp_numbers, e.licences[0].category
    ('11010502000001', (), 'B2')
    >>> e.durations[0].seconds, e.durations[0].within, e.urls[0].host, e.domains[0].name
    (86400, True, 'beian.miit.gov.cn', 'beian.miit.gov.cn')
    """
    defects: list[Defect] = []
    taken: list[tuple[int, int]] = []  # spans already claimed by a more specific entity

    icps: list[IcpNumber] = []
    for m in _finditer("icp", text, defects):
        prov = m["prov"]
        site = int(m["site"]) if m["site"] else None
        icps.append(
            _make(
                IcpNumber,
                {
                    "text": m.group(0),
                    "province": PROVINCE_ALIASES.get(prov, prov),
                    "record_type": m["type"],
                    "number": m["num"],
                    "site": site if site and site >= 1 else None,
                    "span": m.span() if spans else None,
                },
            )
        )
        taken.append(m.span())

    psbs: list[PublicSecurityNumber] = []
    for m in _finditer("psb", text, defects):
        prov = m["prov"]
        psbs.append(
            _make(
                PublicSecurityNumber,
                {
                    "text": m.group(0),
                    "province": PROVINCE_ALIASES.get(prov, prov),
                    "number": m["num"],
                },
            )
        )
        taken.append(m.span())

    licences: list[Licence] = []
    for m in _finditer("licence", text, defects):
        prov = m["prov"]
        licences.append(
            _make(
                Licence,
                {
                    "text": m.group(0),
                    "province": PROVINCE_ALIASES.get(prov, prov),
                    "category": m["cat"].replace("、", "."),
                    "number": m["num"],
                },
            )
        )
        taken.append(m.span())

    urls: list[Url] = []
    domains: list[Domain] = []
    for start, url in _url_matches(text, defects):
        urls.append(url)
        taken.append((start, start + len(url.url)))
        if not _is_ip(url.host) and (d := _domain(url.host)) is not None:
            domains.append(d)

    found: list[tuple[int, Domain]] = []
    for name in ("domain", "cn_domain"):
        for m in _finditer(name, text, defects):
            start, written = m.start(), m.group(0)
            if name == "cn_domain":
                # A Han run has no left boundary: cut at the last word that introduces a domain.
                label = written.split(".", 1)[0]
                cut = _lead_cut(label)
                if cut >= len(label):
                    continue
                start, written = start + cut, written[cut:]
            span = (start, start + len(written))
            if _overlaps(span, taken):
                continue
            if (d := _domain(written)) is not None:
                found.append((start, d))
                taken.append(span)
    domains.extend(d for _, d in sorted(found, key=lambda x: x[0]))

    ips: list[IpAddress] = []
    for name in ("ipv4", "ipv6"):
        for m in _finditer(name, text, defects):
            written = m.group(0)
            if name == "ipv6" and "::" not in written and written.count(":") != 7:
                continue
            try:
                addr = ipaddress.ip_address(written)
            except ValueError:
                continue
            if _overlaps(m.span(), taken):
                continue
            ips.append(_make(IpAddress, {"address": str(addr), "version": addr.version}))
            taken.append(m.span())

    codes = [
        _make(VerificationCode, {"code": m["code"]})
        for m in _finditer("code", text, defects)
        if any(c.isdigit() for c in m["code"])
    ]

    dates: list[DateMention] = []
    date_spans: list[tuple[int, int]] = []
    for name in ("date_ymd", "date_iso", "date_md"):
        for m in _finditer(name, text, defects):
            if _overlaps(m.span(), date_spans) or _overlaps(m.span(), taken):
                continue
            year = m.groupdict().get("y")
            value: dt.date | None = None
            try:
                if year is not None:
                    value = dt.date(int(year), int(m["m"]), int(m["d"]))
                else:
                    dt.date(2000, int(m["m"]), int(m["d"]))  # validates month/day (leap year)
                    if reference is not None:
                        value = _resolve_year(int(m["m"]), int(m["d"]), reference)
            except ValueError:
                continue
            dates.append(
                _make(
                    DateMention,
                    {
                        "text": m.group(0),
                        "value": value,
                        "time": _time(m["H"], m["M"], m.groupdict().get("S")),
                    },
                )
            )
            date_spans.append(m.span())
    dates.sort(key=lambda d: text.find(d.text))

    durations: list[DurationMention] = []
    for m in _finditer("duration", text, defects):
        if _overlaps(m.span(), date_spans):
            continue
        n = _cn_number(m["n"])
        if n is None:
            continue
        within = m["within"] is not None
        durations.append(
            _make(
                DurationMention,
                {
                    "text": m.group(0),
                    "seconds": int(n * _UNIT_SECONDS[m["unit"]]),
                    "within": within,
                },
            )
        )

    phone_hits: list[tuple[int, str]] = []
    for name in ("mobile", "landline"):
        for m in _finditer(name, text, defects):
            if _overlaps(m.span(), taken):
                continue
            phone_hits.append((m.start(), m.group(0).replace("＊", "*")))
            taken.append(m.span())
    phones = [p for _, p in sorted(phone_hits)]

    providers: list[ProviderMention] = []
    provider_pattern = provider_gate(text)
    if provider_pattern is not None:
        for m in _finditer("provider", text, defects, provider_pattern):
            canonical = provider_for_alias(m.group(0))
            if canonical is not None:
                providers.append(_make(ProviderMention, {"name": canonical, "alias": m.group(0)}))

    values = {
        "icp_numbers": tuple(_unique(icps, key=lambda x: (x.canonical, x.span))),
        "licences": tuple(_unique(licences, key=lambda x: x.text)),
        "public_security_numbers": tuple(_unique(psbs, key=lambda x: x.number)),
        "domains": tuple(_unique(domains, key=lambda x: x.name)),
        "ips": tuple(_unique(ips, key=lambda x: x.address)),
        "providers": tuple(_unique(providers, key=lambda x: x.name)),
        "codes": tuple(_unique(codes, key=lambda x: x.code)),
        "urls": tuple(_unique(urls, key=lambda x: x.url)),
        "dates": tuple(_unique(dates, key=lambda x: x.text)),
        "durations": tuple(_unique(durations, key=lambda x: x.text)),
        "phones": tuple(_unique(phones, key=lambda x: x)),
    }
    entities = _make(Entities, values)
    return entities, tuple(defects)


def _url_matches(text: str, defects: list[Defect]) -> list[tuple[int, Url]]:
    """Each URL of ``text`` with where it starts (trailing punctuation cut; no host: skipped)."""
    out: list[tuple[int, Url]] = []
    for m in _finditer("url", text, defects):
        raw = m.group(0).rstrip(".,;:!?)]}>'\"")
        target = raw if "://" in raw else "http://" + raw
        try:
            host = (urlsplit(target).hostname or "").lower()
        except ValueError:
            continue
        if not host:
            continue
        out.append((m.start(), _make(Url, {"url": raw, "host": host})))
    return out


def extract_urls(text: str) -> tuple[tuple[Url, ...], tuple[Defect, ...]]:
    """Extract only the URLs: ``extract(text)[0].urls``, without scanning for the other kinds.

    For callers that need no other entity (a classification reads only whether a notice holds
    a link; see :func:`icp_notify.parse.parse_for_classification`).

    Parameters
    ----------
    text : str
        Normalised text, as for :func:`extract`.

    Returns
    -------
    tuple of (tuple of Url, tuple of Defect)
        The URLs in order of appearance (duplicates removed), and a timeout of the URL pattern
        if one.

    Examples
    --------
    >>> urls, _ = extract_urls("请在24小时内访问 https://beian.miit.gov.cn/x 核验 京ICP备12345678号")
    >>> [(u.url, u.host) for u in urls]
    [('https://beian.miit.gov.cn/x', 'beian.miit.gov.cn')]
    """
    defects: list[Defect] = []
    urls = [url for _, url in _url_matches(text, defects)]
    return tuple(_unique(urls, key=lambda x: x.url)), tuple(defects)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _resolve_year(month: int, day: int, reference: dt.datetime) -> dt.date:
    """The date with that month and day closest to ``reference`` (within about half a year)."""
    candidates = []
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            continue
    ref = reference.date()
    return min(candidates, key=lambda d: abs((d - ref).days))


def _unique(items: list[_T], *, key: Any) -> list[_T]:
    if len(items) < 2:
        return items
    seen: set[Any] = set()
    out: list[_T] = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def _may_address(head: str) -> bool:
    """Whether the recipient pattern can match: each alternative needs one of these literals."""
    return (
        "尊敬的" in head
        or "您好" in head
        or "亲爱的" in head
        or "你好" in head
        or "dear" in head.lower()
        or not is_plain(head)  # "Dear" written with a character that folds to d, e, a or r
    )


_MASK = lazy_pattern(globals(), regex.compile, r"[*＊]|[Xx]{2,}|^[Xx]$|某|\*")


def extract_recipient(text: str) -> Recipient | None:
    """Find the addressee (尊敬的用户张**, 尊敬的XX用户, 您好 张三 …).

    Parameters
    ----------
    text : str
        Normalized notice text.

    Returns
    -------
    Recipient or None
        The name as written and whether it is masked; ``None`` when there is no personal
        addressee.

    Examples
    --------
    >>> extract_recipient("尊敬的用户张**,您的备案信息已被变更。")
    Recipient(name='张**', masked=True)
    >>> extract_recipient("张三,您好!您的网站已接入。")
    Recipient(name='张三', masked=False)
    >>> extract_recipient("尊敬的阿里云用户:您好") is None
    True
    """
    head = text[:300]
    if not _may_address(head):
        return None
    # 300 characters, within the proven length: no timeout (tests/test_bounded.py)
    m = _pattern("recipient").search(head)
    if m is None:
        return None
    name = (m["name"] or m["name2"] or m["name3"] or "").strip(" .·-")
    if not name or name in {"用户", "客户", "会员", "您", "您好", "先生", "女士", "各位"}:
        return None
    if provider_for_alias(name) is not None or name in provider_table().miit_signatures:
        return None
    if name.endswith(("用户", "客户")) and len(name) > 2:
        name = name[:-2]
    return Recipient(name=name, masked=bool(_MASK.search(name)))
