"""Subcommands of ``icp-notify``: one module each, with ``add_arguments`` and ``run``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from icp_notify.models import Context

__all__ = ["TRAIN_EXTRA_HINT", "need_training_extra", "read_context"]

TRAIN_EXTRA_HINT = "pip install 'icp-notify[train]'"
"""How to install scikit-learn, which training, evaluation by writer and calibration need."""


def need_training_extra(command: str) -> None:
    """Fail with the install hint when scikit-learn (the ``train`` extra) cannot be imported.

    Inference is numpy-only, so scikit-learn is an optional dependency; the commands that train
    models (``train``, ``eval --by writer``, ``calibrate``) call this before any work.

    Parameters
    ----------
    command : str
        The command that needs it, named in the message.

    Raises
    ------
    InputError
        ``missing_dependency``, naming the command and the ``pip install`` line.

    Examples
    --------
    >>> import sys
    >>> saved = sys.modules.get("sklearn")
    >>> sys.modules["sklearn"] = None  # what an install without the extra looks like
    >>> try:
    ...     need_training_extra("train")
    ... except Exception as exc:
    ...     print(exc.code, "|", exc)
    missing_dependency | ...train trains models and needs scikit-learn: pip install 'icp-notify[train]'...
    >>> if saved is None:
    ...     del sys.modules["sklearn"]
    ... else:
    ...     sys.modules["sklearn"] = saved
    """
    from icp_notify.errors import InputError

    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise InputError(
            "missing_dependency",
            f"{command} trains models and needs scikit-learn: {TRAIN_EXTRA_HINT}",
            where=command,
        ) from None


def read_context(path: str | Path | None) -> Context | None:
    """Read the ``--context`` file of ``analyze`` and ``classify``: a JSON :class:`Context`.

    Parameters
    ----------
    path : str, Path or None
        The file given with ``--context``.

    Returns
    -------
    Context or None
        The context (read by :func:`icp_notify.boundary.coerce_context`), or ``None`` without
        a path.

    Raises
    ------
    InputError
        ``unreadable`` or ``invalid_json`` naming the file, ``invalid_field`` when it is not a
        JSON object (naming the file) or not a valid context (naming the field).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "ctx.json"
    >>> _ = f.write_text(json.dumps({"operations": [
    ...     {"kind": "new_domain", "submitted_at": "2025-03-01T10:00:00"}]}))
    >>> read_context(f).operations[0].kind.value
    'new_domain'
    >>> _ = f.write_text("[]")
    >>> read_context(f)
    Traceback (most recent call last):
    ...
    icp_notify.errors.InputError: ...ctx.json: the context must be a JSON object (code: invalid_field)
    """
    if path is None:
        return None
    import json

    from icp_notify.boundary import coerce_context
    from icp_notify.errors import InputError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(
            "unreadable", f"cannot read the context file: {exc.strerror}", where=str(path)
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            "invalid_json", f"the context file is not JSON: {exc}", where=str(path)
        ) from None
    if not isinstance(data, dict):
        raise InputError("invalid_field", "the context must be a JSON object", where=str(path))
    return coerce_context(data)
