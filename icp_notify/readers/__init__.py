"""Readers: one module per source format, each turning its input into
:class:`~icp_notify.models.RawMessage` objects (or structured read errors).

:mod:`icp_notify.readers.email` reads one RFC 822 message (``.eml``); the other modules read
archives and streams (mbox, maildir, SMS-backup XML, CSV, JSONL, plain text).
"""

# The dispatcher used by ``icp-notify batch`` (appended by the batch readers; see walk.py).
from icp_notify.readers.walk import INPUT_FORMATS, InputFormat, read_file, read_inputs

__all__ = ["INPUT_FORMATS", "InputFormat", "read_file", "read_inputs"]
