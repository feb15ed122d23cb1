"""The exception tree of icp_notify.

Every error the package raises on purpose is an :class:`IcpNotifyError`. Bad input raises
:class:`InputError`, which is also a :class:`ValueError`, with a machine-readable ``code``,
a message saying what was wrong, where, and what to do.

Examples
--------
>>> err = InputError("empty", "the notice is empty", hint="pass the SMS or email text")
>>> isinstance(err, ValueError), err.code
(True, 'empty')
>>> str(err)
'the notice is empty (code: empty). Hint: pass the SMS or email text'
"""

from __future__ import annotations

from typing import Any


class IcpNotifyError(Exception):
    """Base class of every error raised by icp_notify."""


class InputError(IcpNotifyError, ValueError):
    """Malformed, empty, oversized or undecodable input.

    Parameters
    ----------
    code : str
        Machine-readable reason: ``empty``, ``too_large``, ``undecodable``, ``not_a_message``,
        ``invalid_field``, ``unsupported_format``, ``unreadable``, …
    message : str
        What was wrong, in a sentence.
    where : str, optional
        Where in the input (file, line, field).
    hint : str, optional
        What the caller can do about it.
    """

    def __init__(
        self, code: str, message: str, *, where: str | None = None, hint: str | None = None
    ) -> None:
        self.code = code
        self.message = message
        self.where = where
        self.hint = hint
        text = message if where is None else f"{where}: {message}"
        text = f"{text} (code: {code})"
        if hint:
            text = f"{text}. Hint: {hint}"
        super().__init__(text)

    def to_dict(self) -> dict[str, Any]:
        """Return the error as a JSON-friendly dict (for error rows and HTTP responses).

        Returns
        -------
        dict
            ``{"code", "message", "where", "hint"}``.
        """
        return {"code": self.code, "message": self.message, "where": self.where, "hint": self.hint}


class DataFileError(IcpNotifyError):
    """A shipped or user-supplied data file is invalid.

    Parameters
    ----------
    path : str
        The file.
    message : str
        What is wrong.
    item : str, optional
        The entry (rule id, advice key) at fault.
    field : str, optional
        The field of that entry.
    """

    def __init__(
        self, path: str, message: str, *, item: str | None = None, field: str | None = None
    ) -> None:
        self.path = path
        self.item = item
        self.field = field
        where = path
        if item is not None:
            where += f" [{item}]"
        if field is not None:
            where += f" .{field}"
        super().__init__(f"{where}: {message}")


class RuleFileError(DataFileError):
    """The rules file is invalid (names the file, rule id and field)."""


class AdviceFileError(DataFileError):
    """The advice file is invalid (names the file, entry and field)."""


class ModelArtifactError(DataFileError):
    """The shipped model artefact is missing, corrupt, or does not match its sources."""


class CorpusError(DataFileError):
    """The labelled corpus is invalid."""
