"""Logging for the service: personal data (names, phone numbers, e-mail, ID numbers) masked.

The library never configures logging; ``icp-notify serve`` calls :func:`configure_logging`.

Examples
--------
>>> mask_personal("尊敬的用户张三丰，您好；联系 13812345678 或 li.si@example.com")
'尊敬的用户张**，您好；联系 138****5678 或 l***@example.com'
"""

from __future__ import annotations

import logging

import regex

_TIMEOUT = 0.1
_PATTERNS: tuple[tuple[regex.Pattern[str], str], ...] = (
    # 18-digit resident ID numbers (keep the first 3 and last 2 characters)
    (regex.compile(r"(?<!\d)(\d{3})\d{13}([\dXx]{2})(?![\dXx])"), r"\1*************\2"),
    # mainland mobile numbers, optionally +86
    (regex.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)\d{4}(\d{4})(?!\d)"), r"\1****\2"),
    # e-mail addresses: keep the first character of the local part and the domain
    (
        regex.compile(r"(?<![\w.])([A-Za-z0-9])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})"),
        r"\1***\2",
    ),
    # the addressee of a notice: 尊敬的用户张三 → 尊敬的用户张**
    (
        regex.compile(
            r"(尊敬的(?:用户|客户|会员)?\s*)(\p{Han}|[A-Za-z])[\p{Han}A-Za-z·*]{0,9}(?=[，,：:！!\s])"
        ),
        r"\1\2**",
    ),
    # 姓名：张三 / 联系人：张三
    (regex.compile(r"((?:姓名|联系人|负责人)[:：]\s*)(\p{Han})[\p{Han}·]{0,5}"), r"\1\2**"),
)


def mask_personal(text: str) -> str:
    """Mask names, phone numbers, e-mail addresses and ID numbers in ``text``.

    Parameters
    ----------
    text : str
        Any log text.

    Returns
    -------
    str
        The text with personal data replaced by ``*``; on a regex timeout, a placeholder.
    """
    try:
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text, timeout=_TIMEOUT)
    except TimeoutError:
        return "[log message withheld: masking timed out]"
    return text


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal data in every record it sees.

    Examples
    --------
    >>> record = logging.LogRecord("x", logging.INFO, __file__, 1, "from %s", ("13812345678",), None)
    >>> MaskingFilter().filter(record), record.getMessage()
    (True, 'from 138****5678')
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its masked form; never drops a record.

        Parameters
        ----------
        record : logging.LogRecord
            The record; its ``msg`` and ``args`` are replaced in place.

        Returns
        -------
        bool
            Always ``True``.
        """
        message = record.getMessage()
        masked = mask_personal(message)
        if masked != message or record.args:
            record.msg = masked
            record.args = None
        return True


def configure_logging(level: str = "info") -> None:
    """Log to stderr with personal data masked (called by ``icp-notify serve`` only).

    The filter is attached to the handler, so uvicorn's access and error logs, which
    propagate to the root logger here, are masked too.

    Parameters
    ----------
    level : str, default "info"
        The root logger's level name (``debug``, ``info``, ``warning``, …).
    """
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
