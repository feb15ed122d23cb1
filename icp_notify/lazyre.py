"""Module-level patterns compiled on their first use.

A module that holds many patterns, most of which a given message never reaches (the
normaliser's e-mail, forward and HTML patterns on an SMS), declares them with
:func:`lazy_pattern` instead of compiling them at import: ``_X = lazy_pattern(globals(),
regex.compile, source, flags)``. The first attribute read (``_X.search``, ``_X.sub`` …)
compiles the pattern with the given function and puts the compiled pattern in the module's
globals in place of the placeholder, so every later use reads the compiled pattern itself,
with no indirection. The pattern is the one ``compile(source, flags)`` returns at import: the
same object ``regex`` / ``re`` would give, compiled later.

``tests/test_bounded.py`` collects the placeholders from the modules' globals like compiled
patterns (it compiles them) and proves them bounded.

Examples
--------
>>> import re
>>> namespace = {}
>>> namespace["_DIGITS"] = lazy_pattern(namespace, re.compile, r"\\d+")
>>> isinstance(namespace["_DIGITS"], LazyPattern)
True
>>> namespace["_DIGITS"].findall("a1b22")
['1', '22']
>>> namespace["_DIGITS"]
re.compile('\\\\d+')
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar, cast

__all__ = ["LazyPattern", "lazy_pattern"]

P = TypeVar("P")


class LazyPattern:
    """A placeholder for a module-level pattern, compiled on its first use.

    Parameters
    ----------
    namespace : mutable mapping
        The module's globals, where the placeholder is stored; on first use the compiled
        pattern replaces it there (under every name bound to it).
    compile : callable
        ``regex.compile`` or ``re.compile``.
    source : str or bytes
        The pattern.
    flags : int
        Its flags.

    Examples
    --------
    >>> import regex
    >>> namespace = {}
    >>> namespace["_A"] = LazyPattern(namespace, regex.compile, "a+", regex.I)
    >>> namespace["_A"].resolve().pattern, bool(namespace["_A"].flags & regex.I)
    ('a+', True)
    """

    __slots__ = ("_compile", "_flags", "_namespace", "_source")

    def __init__(
        self,
        namespace: MutableMapping[str, Any],
        compile: Callable[..., Any],
        source: str | bytes,
        flags: int = 0,
    ) -> None:
        self._namespace = namespace
        self._compile = compile
        self._source = source
        self._flags = flags

    def resolve(self) -> Any:
        """Compile the pattern and put it in the module's globals in place of this placeholder.

        Returns
        -------
        regex.Pattern or re.Pattern
            ``compile(source, flags)``.
        """
        pattern = self._compile(self._source, self._flags)
        namespace = self._namespace
        for name in [name for name, value in namespace.items() if value is self]:
            namespace[name] = pattern
        return pattern

    def __getattr__(self, attr: str) -> Any:
        # only for attributes the placeholder lacks: every public pattern method and attribute
        # (a private or special name is not the pattern's: copy and pickle probe for those)
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self.resolve(), attr)

    def __repr__(self) -> str:
        return f"LazyPattern({self._source!r}, {self._flags!r})"


def lazy_pattern(
    namespace: MutableMapping[str, Any],
    compile: Callable[..., P],
    source: str | bytes,
    flags: int = 0,
) -> P:
    """A module-level pattern compiled on first use (see the module docstring).

    Parameters
    ----------
    namespace : mutable mapping
        The declaring module's ``globals()``.
    compile : callable
        ``regex.compile`` or ``re.compile``: what the pattern is compiled with.
    source : str or bytes
        The pattern.
    flags : int
        Its flags.

    Returns
    -------
    pattern
        A :class:`LazyPattern`, typed as what ``compile`` returns (it answers every attribute
        of it by compiling).

    Examples
    --------
    >>> import regex
    >>> namespace = {}
    >>> namespace["_WORD"] = lazy_pattern(namespace, regex.compile, r"\\p{Han}+")
    >>> namespace["_WORD"].search("备案 ok").group(0)
    '备案'
    >>> type(namespace["_WORD"]).__name__
    'Pattern'
    """
    return cast("P", LazyPattern(namespace, compile, source, flags))
