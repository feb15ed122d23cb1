"""Hosting providers and MIIT senders: the table in ``data/providers.toml`` and the lookups on it.

:func:`provider_table` loads and validates the file once; the other functions answer "which
provider is this alias / SMS signature / e-mail sender" and build the provider pattern that
:func:`icp_notify.entities.extract` searches the text with (reduced by :func:`provider_gate` to the
aliases that can occur in a given text). The public names are also importable from
:mod:`icp_notify.entities`, where they lived before.

Examples
--------
>>> provider_for_alias("Tencent Cloud"), provider_in_signature("阿里云备案")
('腾讯云', '阿里云')
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

import regex

from icp_notify.errors import DataFileError
from icp_notify.lazyre import lazy_pattern

__all__ = [
    "ProviderTable",
    "provider_aliases",
    "provider_for_alias",
    "provider_for_sender",
    "provider_in_signature",
    "provider_table",
]

_Pattern = regex.Pattern[str]


@dataclass(frozen=True)
class ProviderTable:
    """The validated content of ``data/providers.toml``.

    Attributes
    ----------
    aliases : Mapping
        Alias (as written) → canonical provider name.
    domains : Mapping
        E-mail domain → canonical provider name.
    guards : Mapping
        Alias → characters that may not follow it.
    miit_signatures, miit_senders, miit_domains : frozenset of str
        What marks a notice as sent by MIIT.

    Notes
    -----
    The table is shared by every caller (:func:`provider_table` is cached), so its mappings are
    read-only views.

    Examples
    --------
    >>> table = provider_table()
    >>> table.domains["aliyun.com"], "工信部" in table.miit_signatures
    ('阿里云', True)
    """

    aliases: Mapping[str, str]
    domains: Mapping[str, str]
    guards: Mapping[str, str]
    miit_signatures: frozenset[str]
    miit_senders: frozenset[str]
    miit_domains: frozenset[str]


def _str_list(path: str, value: Any, item: str, fld: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DataFileError(path, "must be a list of non-empty strings", item=item, field=fld)
    return [v.strip() for v in value]


@functools.cache
def provider_table() -> ProviderTable:
    """Load and validate ``data/providers.toml`` (once).

    Returns
    -------
    ProviderTable
        Aliases, e-mail domains, guards and the MIIT markers; the same object on every call.

    Raises
    ------
    DataFileError
        When the file is missing a field, has a wrong type, or maps one alias to two providers.

    Examples
    --------
    >>> provider_table().aliases["DNSPod"]
    '腾讯云'
    """
    path = "icp_notify/data/providers.toml"
    try:
        raw = tomllib.loads(
            resources.files("icp_notify.data").joinpath("providers.toml").read_text("utf-8")
        )
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataFileError(path, f"cannot read: {exc}") from exc
    miit = raw.get("miit")
    if not isinstance(miit, dict):
        raise DataFileError(path, "missing [miit] table")
    providers = raw.get("provider")
    if not isinstance(providers, list) or not providers:
        raise DataFileError(path, "missing [[provider]] entries")
    aliases: dict[str, str] = {}
    domains: dict[str, str] = {}
    for entry in providers:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise DataFileError(path, "every provider needs a name", field="name")
        for alias in [name, *_str_list(path, entry.get("aliases"), name, "aliases")]:
            if aliases.get(alias, name) != name:
                raise DataFileError(
                    path, f"alias {alias!r} also belongs to {aliases[alias]}", item=name
                )
            aliases[alias] = name
        for domain in _str_list(path, entry.get("domains", []), name, "domains"):
            domains[domain.lower()] = name
    guards = raw.get("guards", {})
    if not isinstance(guards, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in guards.items()
    ):
        raise DataFileError(path, "[guards] maps an alias to a string of characters")
    return ProviderTable(
        aliases=MappingProxyType(aliases),
        domains=MappingProxyType(domains),
        guards=MappingProxyType(dict(guards)),
        miit_signatures=frozenset(_str_list(path, miit.get("signatures"), "miit", "signatures")),
        miit_senders=frozenset(_str_list(path, miit.get("senders"), "miit", "senders")),
        miit_domains=frozenset(
            d.lower() for d in _str_list(path, miit.get("domains"), "miit", "domains")
        ),
    )


def provider_aliases() -> dict[str, str]:
    """Return alias → canonical provider name, from ``data/providers.toml``.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> aliases = provider_aliases()
    >>> aliases["万网"], aliases["Tencent Cloud"], aliases["百度云"]
    ('阿里云', '腾讯云', '百度智能云')
    """
    return dict(provider_table().aliases)


@functools.cache
def _provider_parts() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The aliases, longest first, and the pattern alternative of each (same order)."""
    table = provider_table()
    aliases = tuple(sorted(table.aliases, key=len, reverse=True))
    parts = []
    for alias in aliases:
        body = regex.escape(alias).replace(r"\ ", r"\s?")
        if alias.isascii():
            body = rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])"
        guard = table.guards.get(alias)
        if guard:
            body += "(?![" + regex.escape(guard) + "])"
        parts.append(body)
    return aliases, tuple(parts)


_PROVIDER_FLAGS = regex.IGNORECASE | regex.VERSION1


@functools.cache
def _provider_pattern() -> _Pattern:
    return regex.compile("|".join(_provider_parts()[1]), _PROVIDER_FLAGS)


@functools.lru_cache(maxsize=256)
def _provider_subpattern(which: tuple[int, ...]) -> _Pattern:
    """The provider pattern with only the alternatives ``which`` (positions, in pattern order)."""
    parts = _provider_parts()[1]
    return regex.compile("|".join(parts[i] for i in which), _PROVIDER_FLAGS)


#: Text made only of these characters is "plain": ASCII, and blocks without any case mapping
#: (CJK ideographs and punctuation, kana, general punctuation, arrows, dingbats, emoji). Under
#: the IGNORECASE | VERSION1 (full case folding) flags a plain non-ASCII character matches only
#: itself, and an ASCII character matches only an ASCII character with the same ``lower()``;
#: so a pattern literal can only match plain text where its ``lower()`` occurs in the text's
#: ``lower()``. (Not plain: e.g. U+017F ſ matches "s", U+212A K "k", U+0130 İ "i", ß "ss";
#: tests/test_parse_speed_gates.py checks this against the regex module's own tables.)
_NOT_PLAIN = lazy_pattern(
    globals(),
    re.compile,
    "[^\x00-\x7f\u00a1-\u00a9\u00ab-\u00b4\u00b6-\u00b9\u00bb-\u00bf"
    "\u2010-\u2027\u2030-\u205e\u2190-\u23ff\u2500-\u27bf"
    "\u3000-\u303f\u3041-\u3096\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ufe0f\U0001f300-\U0001faff]",
)


def is_plain(text: str) -> bool:
    """Whether ``text`` is plain (see :data:`_NOT_PLAIN`): literal gates are safe on it.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    bool
    """
    return _NOT_PLAIN.search(text) is None


#: Characters common in notices, most common first: an alias is indexed under its rarest one.
_COMMON_CHARS = (
    ".-0123456789"
    + "云网中国天新数码互联科技信息移动通电华京东百度安美西易商爱"
    + "etaoinsrhldcumfpgwybvkxjqz"
)


_IndexEntry = tuple[int, str, tuple[str, ...]]


@functools.cache
def _provider_index() -> tuple[re.Pattern[str], dict[str, tuple[_IndexEntry, ...]]]:
    """A character class of key characters, and key character → aliases indexed under it.

    Every alias is indexed under its rarest character (lower-cased), as ``(position in the
    pattern, first piece, other pieces)``; the pieces are the alias lower-cased and split at
    spaces (a space in an alias matches an optional space).
    """
    index: dict[str, list[_IndexEntry]] = {}
    for i, alias in enumerate(_provider_parts()[0]):
        pieces = [p for p in alias.lower().split(" ") if p]
        key = max(
            "".join(pieces),
            key=lambda c: _COMMON_CHARS.index(c) if c in _COMMON_CHARS else len(_COMMON_CHARS),
        )
        index.setdefault(key, []).append((i, pieces[0], tuple(pieces[1:])))
    keys = re.compile("[" + "".join(re.escape(c) for c in index) + "]")
    return keys, {k: tuple(v) for k, v in index.items()}


def provider_gate(text: str) -> _Pattern | None:
    """The provider pattern reduced to the aliases that can occur in ``text``; ``None`` if none.

    Used by :func:`icp_notify.entities.extract`.

    An alternative whose alias cannot match anywhere in ``text`` never wins at any position, so
    dropping it changes no match (the order of the others is kept). In plain text (see
    :data:`_NOT_PLAIN`) an alias can only match where each of its lower-cased pieces occurs in
    the lower-cased text; other text gets the whole pattern.
    """
    if not is_plain(text):
        return _provider_pattern()
    low = text.lower()
    keys, index = _provider_index()
    found = set(keys.findall(low))
    if not found:
        return None
    which: list[int] = []
    for key in found:
        for i, first, rest in index[key]:
            if first in low and (not rest or all(p in low for p in rest)):
                which.append(i)
    if not which:
        return None
    which.sort()
    return _provider_subpattern(tuple(which))


@functools.cache
def _alias_lookup() -> dict[str, str]:
    return {
        alias.lower().replace(" ", ""): name for alias, name in provider_table().aliases.items()
    }


def provider_for_alias(text: str) -> str | None:
    """Return the canonical provider for an alias as written (case and spaces ignored).

    Parameters
    ----------
    text : str
        An alias as found in a notice (``aliyun``, ``万网``, …).

    Returns
    -------
    str or None
        The canonical name, or ``None`` for an unknown alias.

    Examples
    --------
    >>> provider_for_alias("aliyun"), provider_for_alias("nobody")
    ('阿里云', None)
    """
    return _alias_lookup().get(text.lower().replace(" ", ""))


@functools.cache
def _signature_aliases() -> tuple[tuple[str, str], ...]:
    """(lower-cased alias, provider) for aliases of two or more characters, longest first."""
    table = provider_table()
    return tuple(
        (alias.lower(), table.aliases[alias])
        for alias in sorted(table.aliases, key=len, reverse=True)
        if len(alias) >= 2
    )


def provider_in_signature(signature: str) -> str | None:
    """Return the provider whose alias stands inside an SMS signature (``【阿里云备案】``).

    The longest alias wins; one-character aliases are not looked for. Case is ignored.

    Parameters
    ----------
    signature : str
        The signature without its brackets.

    Returns
    -------
    str or None
        The canonical name, or ``None`` when no alias occurs in it.

    Examples
    --------
    >>> provider_in_signature("阿里云备案"), provider_in_signature("某某科技")
    ('阿里云', None)
    """
    if len(signature) > 64:
        return _alias_inside(signature.lower())
    return _alias_inside_memo(signature.lower())


def _alias_inside(lowered: str) -> str | None:
    return next((name for alias, name in _signature_aliases() if alias in lowered), None)


_alias_inside_memo = functools.lru_cache(maxsize=1024)(_alias_inside)


def provider_for_sender(sender: str) -> str | None:
    """Return the canonical provider an e-mail sender address belongs to, if any.

    Parameters
    ----------
    sender : str
        An e-mail address (its domain and parent domains are looked up).

    Returns
    -------
    str or None
        The canonical name, or ``None``.

    Examples
    --------
    >>> provider_for_sender("noreply@notice.aliyun.com"), provider_for_sender("a@example.com")
    ('阿里云', None)
    """
    if "@" not in sender:
        return None
    host = sender.rsplit("@", 1)[1].strip().strip(">").lower()
    domains = provider_table().domains
    while host:
        if host in domains:
            return domains[host]
        if "." not in host:
            return None
        host = host.split(".", 1)[1]
    return None
