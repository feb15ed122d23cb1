"""A model's JSON text kept field by field, so a copy with a few fields changed costs only those.

Batch rows are written as ``json.dumps(row, ensure_ascii=False)`` writes them (``", "`` and
``": "`` between items). That text is the concatenation of each field's own ``json.dumps``,
so :class:`ModelText` serialises a model once (pydantic's ``model_dump(mode="json")``) and keeps
each field's text; for a copy made with ``model_copy(update=...)`` it asks pydantic to serialise
only the fields whose values are not the same objects, and joins the texts. Nothing here knows
what a notice or an advice holds.

Examples
--------
>>> from icp_notify.models import SourceRef
>>> base = ModelText(SourceRef(file="a.txt", line=1))
>>> base.text()
'{"file": "a.txt", "line": 1, "offset": null, "index": null, "message_id": null}'
>>> copy = base.model.model_copy(update={"line": 2})
>>> base.text(copy) == base.splice({"line": 2}) == dumps(copy.model_dump(mode="json"))
True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel

__all__ = ["ModelText", "dumps", "fields_text", "same_value", "segments_of"]

_ENCODER = json.JSONEncoder(ensure_ascii=False)
_PLAIN = (str, int, bool)


def _made_once() -> Callable[[Any, int], Any] | None:
    """The C encoder ``json.dumps(..., ensure_ascii=False)`` builds on every call, built once.

    ``JSONEncoder.encode`` makes a new one per call (about 3 µs for a small dict); this one is
    the same encoder without the circular-reference check (JSON-ready values from pydantic have
    no cycles). ``None`` where the C accelerator is missing or does not give the same text.
    """
    try:
        from json.encoder import encode_basestring

        c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
        if c_make_encoder is None:
            return None
        made: Callable[[Any, int], Any] = c_make_encoder(
            None, _ENCODER.default, encode_basestring, None, ": ", ", ", False, False, True
        )
        sample = {"a": [1, 2.5, None, True, "备案\n\ud800"], "b": {}, "c": []}
        return made if "".join(made(sample, 0)) == _ENCODER.encode(sample) else None
    except Exception:  # another Python's json module: use the encoder as it is
        return None


_MADE = _made_once()
_STRING = json.encoder.encode_basestring


def dumps(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)``, with the encoder built once.

    Parameters
    ----------
    value : Any
        A JSON-ready value without cycles.

    Returns
    -------
    str

    Examples
    --------
    >>> dumps({"a": ["备案", 1, None]})
    '{"a": ["备案", 1, null]}'
    >>> dumps("京ICP备12345678号") == json.dumps("京ICP备12345678号", ensure_ascii=False)
    True
    """
    if type(value) is str:
        return _STRING(value)
    if _MADE is None:
        return _ENCODER.encode(value)
    return "".join(_MADE(value, 0))


def same_value(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` certainly serialise to the same JSON.

    The same object; equal plain values of the same type (``str``, ``int``, ``bool``); tuples
    of such values, element by element; models of the same type whose fields are such values.
    Anything else (datetimes, floats, dicts) counts as different.

    Parameters
    ----------
    a, b : Any
        Two field values.

    Returns
    -------
    bool

    Examples
    --------
    >>> same_value("a", "a"), same_value(("x",), ("x",)), same_value(1, True), same_value(0.0, -0.0)
    (True, True, False, False)
    >>> from icp_notify.models import Reference
    >>> same_value(Reference(title="t", url="https://a.cn/"), Reference(title="t", url="https://a.cn/"))
    True
    """
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind in _PLAIN:
        return bool(a == b)
    if kind is tuple:
        return len(a) == len(b) and all(map(same_value, a, b))
    if isinstance(a, BaseModel):
        return all(same_value(getattr(a, name), getattr(b, name)) for name in kind.model_fields)
    return False


class ModelText:
    """A pydantic model's JSON text, kept per field (see the module docstring).

    Parameters
    ----------
    model : BaseModel
        The model whose text is kept; copies of it (same type) are serialised against it.

    Examples
    --------
    >>> from icp_notify.models import Reference
    >>> base = ModelText(Reference(title="工信部", url="https://beian.miit.gov.cn/"))
    >>> base.text(Reference(title="MIIT", url="https://beian.miit.gov.cn/"))
    '{"title": "MIIT", "url": "https://beian.miit.gov.cn/"}'
    """

    __slots__ = ("_segments", "_texts", "model", "names", "prefixes", "whole")

    def __init__(self, model: BaseModel) -> None:
        data = model.model_dump(mode="json")  # not kept: only texts (no objects for the GC)
        self.model = model
        names, prefixes = _fields_of(type(model))
        self.names: tuple[str, ...] = tuple(data)
        if self.names == names:
            self.prefixes = prefixes
        else:  # aliases, exclusions: no splicing
            self.names = ()
            self.prefixes = tuple(dumps(name) + ": " for name in data)
        # one C call: the same text as joining each field's text (a dict's JSON is its items'
        # texts joined by ", "); the texts per field are made when a copy is spliced
        self.whole = dumps(data)
        self._texts: tuple[str, ...] | None = None
        # changed fields -> (the kept text between them, the changed fields in field order)
        self._segments: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}

    @property
    def texts(self) -> tuple[str, ...]:
        """Each field's JSON text, in field order (made on first use).

        Returns
        -------
        tuple of str
        """
        texts = self._texts
        if texts is None:
            data = self.model.model_dump(mode="json")
            texts = self._texts = tuple(dumps(value) for value in data.values())
        return texts

    def splice(self, fresh: Mapping[str, Any]) -> str:
        """The JSON text of the kept model with the fields of ``fresh`` replaced.

        ``fresh`` holds the new fields' JSON-ready values as pydantic serialises them
        (``model_dump(mode="json")`` of a model, ``pydantic_core.to_jsonable_python`` of a
        value); the kept text of the other fields is reused as it stands (joined once per set of
        fresh fields), so the cost does not grow with the model.

        Parameters
        ----------
        fresh : mapping
            Field name → JSON-ready value, for the fields that differ from the kept model.

        Returns
        -------
        str
            What ``json.dumps(copy.model_dump(mode="json"), ensure_ascii=False)`` gives for
            ``copy = kept.model_copy(update=...)`` with those values.

        Examples
        --------
        >>> from icp_notify.models import SourceRef
        >>> base = ModelText(SourceRef(file="a.txt", line=1, index=0))
        >>> base.splice({"line": 7})
        '{"file": "a.txt", "line": 7, "offset": null, "index": 0, "message_id": null}'
        """
        return self.join({name: dumps(value) for name, value in fresh.items()})

    def join(self, texts: Mapping[str, str]) -> str:
        """:meth:`splice` with the fresh fields' JSON texts already made.

        Parameters
        ----------
        texts : mapping
            Field name → that field's JSON text (:func:`dumps` of its JSON-ready value).

        Returns
        -------
        str

        Examples
        --------
        >>> from icp_notify.models import SourceRef
        >>> ModelText(SourceRef(file="a.txt", line=1)).join({"line": "7"})
        '{"file": "a.txt", "line": 7, "offset": null, "index": null, "message_id": null}'
        """
        between, order = self.segments(tuple(texts))
        parts = [between[0]]
        for name, after in zip(order, between[1:], strict=True):
            parts.append(texts[name])
            parts.append(after)
        return "".join(parts)

    def segments(self, changed: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The kept text around the ``changed`` fields' values, and those fields in field order.

        The model's JSON text is ``between[0] + text(order[0]) + between[1] + … + between[-1]``;
        computed once per set of changed fields.

        Parameters
        ----------
        changed : tuple of str
            The fields whose texts are left out.

        Returns
        -------
        (tuple of str, tuple of str)
            ``between`` (one more than the fields) and ``order``.

        Raises
        ------
        ValueError
            When the model's JSON does not hold its fields one by one (aliases, exclusions).

        Examples
        --------
        >>> from icp_notify.models import SourceRef
        >>> ModelText(SourceRef(file="a.txt")).segments(("index", "file"))
        (('{"file": ', ', "line": null, "offset": null, "index": ', ', "message_id": null}'), ('file', 'index'))
        """
        segments = self._segments.get(changed)
        if segments is None:
            if not self.names:
                raise ValueError(f"{type(self.model).__name__} is not serialised field by field")
            segments = self._segments[changed] = segments_of(self.model, changed)
        return segments

    def text(
        self,
        model: BaseModel | None = None,
        known: Mapping[str, str] | None = None,
        changed: Iterable[str] | None = None,
    ) -> str:
        """The JSON text of ``model`` (default: the kept model).

        Parameters
        ----------
        model : BaseModel, optional
            A model of the same type; fields that hold the same values as the kept model's
            reuse its texts, the others are serialised by pydantic.
        known : mapping, optional
            Field name → that field's JSON text, already known (e.g. a nested model's text).
        changed : iterable of str, optional
            The only fields that may differ from the kept model's (e.g. the ``update`` keys of
            the ``model_copy`` that made ``model``); by default every field is compared.

        Returns
        -------
        str
            What ``json.dumps(model.model_dump(mode="json"), ensure_ascii=False)`` gives.
        """
        if model is None or model is self.model:
            if not known:
                return self.whole
            model = self.model
        if type(model) is not type(self.model) or not self.names:
            return dumps(model.model_dump(mode="json"))
        known = known or {}
        kept = self.model
        fields = self.names if changed is None else changed
        dump = {
            name
            for name in fields
            if name not in known and not same_value(getattr(model, name), getattr(kept, name))
        }
        fresh = model.model_dump(mode="json", include=dump) if dump else {}
        parts = []
        for name, prefix, kept_text in zip(self.names, self.prefixes, self.texts, strict=True):
            if name in known:
                parts.append(prefix + known[name])
            elif name in fresh:
                parts.append(prefix + dumps(fresh[name]))
            else:
                parts.append(prefix + kept_text)
        return "{" + ", ".join(parts) + "}"


def segments_of(
    model: BaseModel, changed: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The kept text around the ``changed`` fields' values, and those fields in field order
    (what :meth:`ModelText.segments` keeps), made with one dump per run of kept fields.

    A run of consecutive kept fields is written as ``json.dumps`` writes the dict of those
    fields, without its braces (a dict's JSON is its items' texts joined by ``", "``), so no
    field is serialised on its own.

    Parameters
    ----------
    model : BaseModel
        The model.
    changed : tuple of str
        The fields whose texts are left out.

    Returns
    -------
    (tuple of str, tuple of str)
        ``between`` (one more than the fields) and ``order``, as :meth:`ModelText.segments`.

    Raises
    ------
    ValueError
        When the model's JSON does not hold its fields one by one (aliases, exclusions).

    Examples
    --------
    >>> from icp_notify.models import SourceRef
    >>> m = SourceRef(file="a.txt", line=3)
    >>> segments_of(m, ("index", "file")) == ModelText(m).segments(("index", "file"))
    True
    """
    data = model.model_dump(mode="json")
    names, prefixes = _fields_of(type(model))
    if tuple(data) != names:
        raise ValueError(f"{type(model).__name__} is not serialised field by field")
    between: list[str] = []
    order: list[str] = []
    run: dict[str, Any] = {}
    for name, prefix in zip(names, prefixes, strict=True):
        if name in changed:
            inner = dumps(run)[1:-1] if run else ""
            if order:
                between.append(", " + inner + ", " + prefix if inner else ", " + prefix)
            else:
                between.append("{" + inner + ", " + prefix if inner else "{" + prefix)
            order.append(name)
            run = {}
        else:
            run[name] = data[name]
    inner = dumps(run)[1:-1] if run else ""
    if order:
        between.append(", " + inner + "}" if inner else "}")
    else:
        between.append("{" + inner + "}")
    return tuple(between), tuple(order)


def fields_text(model_type: type[BaseModel], texts: Mapping[str, str]) -> str:
    """The JSON text of a ``model_type`` whose every field's text is known, in field order.

    Parameters
    ----------
    model_type : type of BaseModel
        The model class (its ``model_fields`` give the order).
    texts : mapping
        Field name → the field's JSON text (as :func:`dumps` of its ``model_dump(mode="json")``).

    Returns
    -------
    str
        What ``json.dumps(model.model_dump(mode="json"), ensure_ascii=False)`` gives.

    Examples
    --------
    >>> from icp_notify.models import Reference
    >>> fields_text(Reference, {"url": '"https://beian.miit.gov.cn/"', "title": '"MIIT"'})
    '{"title": "MIIT", "url": "https://beian.miit.gov.cn/"}'
    """
    prefixes = _PREFIXES.get(model_type)
    if prefixes is None:
        prefixes = _PREFIXES[model_type] = tuple(
            (name, dumps(name) + ": ") for name in model_type.model_fields
        )
    return "{" + ", ".join([prefix + texts[name] for name, prefix in prefixes]) + "}"


_PREFIXES: dict[type[BaseModel], tuple[tuple[str, str], ...]] = {}
_FIELDS: dict[type[BaseModel], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _fields_of(model_type: type[BaseModel]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A model class's field names and their JSON texts with ``": "`` (made once per class)."""
    found = _FIELDS.get(model_type)
    if found is None:
        names = tuple(model_type.model_fields)
        found = _FIELDS[model_type] = (names, tuple(dumps(name) + ": " for name in names))
    return found
