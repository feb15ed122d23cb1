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
>>> base.text(copy) == dumps(copy.model_dump(mode="json"))
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

__all__ = ["ModelText", "dumps", "fields_text", "same_value"]

_ENCODER = json.JSONEncoder(ensure_ascii=False)
_PLAIN = (str, int, bool)


def dumps(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` (one reused encoder).

    Parameters
    ----------
    value : Any
        A JSON-ready value.

    Returns
    -------
    str

    Examples
    --------
    >>> dumps({"a": ["备案", 1, None]})
    '{"a": ["备案", 1, null]}'
    """
    return _ENCODER.encode(value)


def same_value(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` certainly serialise to the same JSON.

    The same object, or equal plain values of the same type (``str``, ``int``, ``bool`` or a
    tuple of strings). Anything else (datetimes, floats, models) counts as different.

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
    """
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind in _PLAIN:
        return bool(a == b)
    if kind is tuple:
        return (
            len(a) == len(b)
            and all(type(x) is str for x in a)
            and all(type(x) is str for x in b)
            and a == b
        )
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

    __slots__ = ("data", "model", "names", "prefixes", "texts", "whole")

    def __init__(self, model: BaseModel) -> None:
        data = model.model_dump(mode="json")
        self.model = model
        self.data = data
        self.names: tuple[str, ...] = tuple(data)
        if self.names != tuple(type(model).model_fields):  # aliases, exclusions: no splicing
            self.names = ()
        self.prefixes = tuple(dumps(name) + ": " for name in data)
        self.texts = tuple(dumps(value) for value in data.values())
        self.whole = "{" + ", ".join(map(str.__add__, self.prefixes, self.texts)) + "}"

    def text(self, model: BaseModel | None = None, known: Mapping[str, str] | None = None) -> str:
        """The JSON text of ``model`` (default: the kept model).

        Parameters
        ----------
        model : BaseModel, optional
            A model of the same type; fields that hold the same values as the kept model's
            reuse its texts, the others are serialised by pydantic.
        known : mapping, optional
            Field name → that field's JSON text, already known (e.g. a nested model's text).

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
        changed = {
            name
            for name in self.names
            if name not in known and not same_value(getattr(model, name), getattr(kept, name))
        }
        fresh = model.model_dump(mode="json", include=changed) if changed else {}
        parts = []
        for name, prefix, kept_text in zip(self.names, self.prefixes, self.texts, strict=True):
            if name in known:
                parts.append(prefix + known[name])
            elif name in fresh:
                parts.append(prefix + dumps(fresh[name]))
            else:
                parts.append(prefix + kept_text)
        return "{" + ", ".join(parts) + "}"


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
    return (
        "{" + ", ".join(f"{dumps(name)}: {texts[name]}" for name in model_type.model_fields) + "}"
    )
