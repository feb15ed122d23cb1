"""Subcommands of ``icp-notify``: one module each, with ``add_arguments`` and ``run``."""

from __future__ import annotations

__all__ = ["TRAIN_EXTRA_HINT", "need_training_extra"]

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
