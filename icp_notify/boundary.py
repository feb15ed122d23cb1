"""The boundary: what comes in from outside becomes the package's own types, or an ``InputError``.

Two kinds of value reach icp_notify from callers, files, HTTP requests and the command line in
many forms, and each has one rule, applied here and nowhere else:

* **a time** (:func:`coerce_time`): a ``datetime``, an ISO 8601 string, or — where the source
  writes them (archives, webhooks) — epoch seconds or milliseconds. A time without a zone is
  Asia/Shanghai, and the instant must lie between :data:`~icp_notify.models.DATETIME_MIN` and
  :data:`~icp_notify.models.DATETIME_MAX` (the rule of :data:`~icp_notify.models.AwareDatetime`,
  :func:`~icp_notify.models.aware_in_range`);
* **a context** (:func:`coerce_context`): a :class:`~icp_notify.models.Context`, its JSON form
  (a mapping) or ``None``.

Anything else is an ``InputError`` with code ``invalid_field`` naming the field (``received_at``,
``now``, ``--now``, ``timestamp``, ``context.operations.0.kind``, …). Each entry point calls them
once on what it was given — :func:`~icp_notify.parse.parse`, the :class:`~icp_notify.pipeline.Pipeline`
and :class:`~icp_notify.classifier.Classifier` methods, :meth:`~icp_notify.advisor.Advisor.advise`,
the archive readers, the service's routes and the command line — and the steps behind it receive
the package's own types.

Examples
--------
>>> coerce_time("2025-03-04 09:12", field="received_at").isoformat()
'2025-03-04T09:12:00+08:00'
>>> coerce_time(1741050720000, field="timestamp", epoch="ms").isoformat()
'2025-03-04T09:12:00+08:00'
>>> coerce_context({"operations": [{"kind": "new_domain", "submitted_at": "2025-03-01"}]}
...     ).operations[0].submitted_at.isoformat()
'2025-03-01T00:00:00+08:00'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal, overload

from pydantic import ValidationError

from icp_notify.errors import InputError
from icp_notify.models import (
    DATETIME_MAX,
    DATETIME_MIN,
    RANGE_TEXT,
    SHANGHAI,
    Context,
    aware_in_range,
    in_datetime_range,
)

__all__ = ["Epoch", "coerce_context", "coerce_time"]

Epoch = Literal["auto", "ms"]
"""How :func:`coerce_time` reads numbers: ``"auto"`` = epoch seconds, or milliseconds above
10^11 (archives, the service's ``received_at``); ``"ms"`` = epoch milliseconds (SmsForwarder's
``timestamp``)."""

_MS_ABOVE = 1e11
"""An epoch number above this is milliseconds (10^11 s is the year 5138; 10^11 ms is 1973)."""

_EPOCH_MIN = int(DATETIME_MIN.timestamp())
_EPOCH_MAX = int(DATETIME_MAX.timestamp())
"""The epoch seconds of :data:`~icp_notify.models.DATETIME_MIN` and ``DATETIME_MAX``: an ``int``
in ``[_EPOCH_MIN, _EPOCH_MAX)``, read as seconds (``"auto"``: it is below :data:`_MS_ABOVE`),
is an instant in range."""

_ISO_HINT = "use ISO 8601, e.g. 2025-03-04T09:12:00+08:00 (no zone = Asia/Shanghai)"
_HINTS: dict[Epoch | None, str] = {
    None: _ISO_HINT,
    "auto": _ISO_HINT + ", or epoch seconds or milliseconds",
    "ms": "send milliseconds since 1970-01-01 UTC, e.g. 1741050720000",
}
_RANGE_HINT = "check the date: a year like 0001 or 9999 is a placeholder, not a time"
_CONTEXT_HINT = (
    'context is {"operations": [{"kind", "submitted_at", "domain", "provider", "from_provider"}],'
    ' "previous_notices": [{"text", "received_at", "sender", "channel"}]}'
    " (Context in icp_notify.models)"
)


@overload
def coerce_time(value: None, *, field: str, epoch: Epoch | None = None) -> None: ...
@overload
def coerce_time(
    value: dt.datetime | str | float, *, field: str, epoch: Epoch | None = None
) -> dt.datetime: ...
def coerce_time(value: object, *, field: str, epoch: Epoch | None = None) -> dt.datetime | None:
    """A time from outside → an aware ``datetime`` in the supported range.

    Parameters
    ----------
    value : datetime, str, int, float or None
        A ``datetime`` (naive = Asia/Shanghai); an ISO 8601 string (a trailing ``Z`` is UTC, no
        zone = Asia/Shanghai); with ``epoch``, a number or a string of digits. ``None`` gives
        ``None``.
    field : str
        The field or option the value came from, named by the error.
    epoch : {"auto", "ms"}, optional
        Whether and how numbers are read (:data:`Epoch`). Without it a number is refused and a
        string of digits is read as ISO 8601 (``20250304`` is a date).

    Returns
    -------
    datetime or None
        ``value`` itself when it is an aware ``datetime`` in range.

    Raises
    ------
    InputError
        ``invalid_field`` with ``where=field``: not a time, or outside the supported range.

    Examples
    --------
    >>> import datetime as dt
    >>> coerce_time(dt.datetime(2025, 3, 4, 9, 12), field="now").isoformat()
    '2025-03-04T09:12:00+08:00'
    >>> coerce_time("2025-03-04T01:12:00Z", field="now").isoformat()
    '2025-03-04T01:12:00+00:00'
    >>> coerce_time("1741050720", field="received_at", epoch="auto").isoformat()
    '2025-03-04T09:12:00+08:00'
    >>> coerce_time(None, field="now") is None
    True
    >>> coerce_time("9999-12-31", field="now")
    Traceback (most recent call last):
    ...
    icp_notify.errors.InputError: now: '9999-12-31' is outside the supported range ...
    >>> coerce_time("yesterday", field="now")
    Traceback (most recent call last):
    ...
    icp_notify.errors.InputError: now: cannot read 'yesterday' as a date and time ...
    """
    if value is None:
        return None
    if type(value) is dt.datetime and value.tzinfo is SHANGHAI and in_datetime_range(value):
        return value  # aware and in range: aware_in_range returns it as it is
    if type(value) is int and _EPOCH_MIN <= value < _EPOCH_MAX and epoch == "auto":
        # epoch seconds of an instant in range: what _from_epoch gives, which aware_in_range
        # returns as it is (aware, and in range because the instant is ``value``)
        return dt.datetime.fromtimestamp(value, SHANGHAI)
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str) and not (epoch and value.strip().lstrip("-").isdigit()):
        try:
            when = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(
                "invalid_field",
                f"cannot read {_shown(value)} as a date and time",
                where=field,
                hint=_HINTS[epoch],
            ) from None
    elif epoch and isinstance(value, str | int | float) and not isinstance(value, bool):
        when = _from_epoch(value, field=field, epoch=epoch)
    else:
        expected = "a datetime or an ISO 8601 string" + (" or an epoch number" if epoch else "")
        raise InputError(
            "invalid_field",
            f"expected {expected}, not {type(value).__name__}",
            where=field,
            hint=_HINTS[epoch],
        )
    try:
        return aware_in_range(when)
    except ValueError:
        shown = when.isoformat() if value is when else _shown(value, epoch)
        raise _out_of_range(shown, field, epoch) from None


def _from_epoch(value: str | float, *, field: str, epoch: Epoch) -> dt.datetime:
    """Epoch seconds (or milliseconds, see :data:`Epoch`) as a time in Asia/Shanghai."""
    try:
        number = int(value) if isinstance(value, str) else value
        seconds = number / 1000 if epoch == "ms" or abs(number) > _MS_ABOVE else number
        return dt.datetime.fromtimestamp(seconds, SHANGHAI)
    except (OverflowError, OSError, ValueError):
        raise _out_of_range(_shown(value, epoch), field, epoch) from None


def _out_of_range(shown: str, field: str, epoch: Epoch | None) -> InputError:
    """The error for a time outside the supported range."""
    return InputError(
        "invalid_field",
        f"{shown} is outside the supported range {RANGE_TEXT}",
        where=field,
        hint=_HINTS["ms"] if epoch == "ms" else _RANGE_HINT,
    )


def _shown(value: object, epoch: Epoch | None = None) -> str:
    """The value as an error quotes it: at most 40 characters, an epoch number with its unit."""
    if epoch and not isinstance(value, dt.datetime):
        unit = "milliseconds" if epoch == "ms" else "seconds or milliseconds"
        text = value.strip() if isinstance(value, str) else repr(value)
        return f"{text[:40]} (epoch {unit})"
    return repr(value[:40]) if isinstance(value, str) else repr(value)


def coerce_context(value: Context | Mapping[str, Any] | None) -> Context | None:
    """A context from outside → a :class:`~icp_notify.models.Context` (or ``None``).

    Parameters
    ----------
    value : Context, mapping or None
        A context, its JSON form (``{"operations": [...], "previous_notices": [...]}``) or
        ``None``.

    Returns
    -------
    Context or None
        ``value`` itself when it is a ``Context`` or ``None``, else the validated object.

    Raises
    ------
    InputError
        ``invalid_field`` naming the first bad field (``context.operations.0.kind``), or
        ``context`` when ``value`` is not a mapping.

    Examples
    --------
    >>> coerce_context({"operations": [{"kind": "new_domain", "submitted_at": "2025-03-01T10:00"}]}
    ...     ).operations[0].kind.value
    'new_domain'
    >>> coerce_context({"operations": [{"kind": "bogus"}]})
    Traceback (most recent call last):
    ...
    icp_notify.errors.InputError: context.operations.0.kind: invalid context: ...
    >>> coerce_context(["new_domain"])
    Traceback (most recent call last):
    ...
    icp_notify.errors.InputError: context: invalid context: expected an object, not list ...
    """
    if value is None or isinstance(value, Context):
        return value
    if not isinstance(value, Mapping):
        raise InputError(
            "invalid_field",
            f"invalid context: expected an object, not {type(value).__name__}",
            where="context",
            hint=_CONTEXT_HINT,
        )
    try:
        return Context.model_validate(dict(value))
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(
            "invalid_field",
            f"invalid context: {err['msg']}",
            where=".".join(["context", *(str(p) for p in err["loc"])]),
            hint=_CONTEXT_HINT,
        ) from None
