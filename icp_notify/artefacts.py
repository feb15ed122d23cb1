"""JSON artefacts fitted for one text model (the calibration table, the combiner): read once,
validated, and refused when they were fitted for another model.

Examples
--------
>>> from icp_notify.calibration import CalibrationTable, default_path
>>> table = load_pinned(CalibrationTable, default_path(), what="calibration table", model_version=None)
>>> table is None or 0.0 <= table.threshold <= 1.0
True
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from icp_notify.errors import ModelArtifactError

__all__ = ["load_pinned", "read_derived"]


def read_derived(path: Path, key: str, sha256: str) -> dict[str, Any] | None:
    """The JSON object at ``path`` when its field ``key`` records ``sha256``, else ``None``.

    For a copy derived from a shipped file and keyed by that file's sha256 (the gate table and
    the rules document beside ``rules.toml``, the prefix dictionary beside ``userdict.txt``):
    ``None`` when the copy is missing, unreadable, not a JSON object or derived from other
    bytes, so the caller derives it again. The caller checks the rest of the object.

    Parameters
    ----------
    path : Path
        The derived copy.
    key : str
        Its field holding the sha256 (hex) of the file it was derived from.
    sha256 : str
        The sha256 of that file's bytes now.

    Returns
    -------
    dict or None

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "copy.json"
    >>> _ = p.write_text('{"source_sha256": "ab", "n": 1}', encoding="utf-8")
    >>> read_derived(p, "source_sha256", "ab"), read_derived(p, "source_sha256", "cd")
    ({'source_sha256': 'ab', 'n': 1}, None)
    """
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get(key) == sha256 else None


class _Pinned(Protocol):
    model_version: str


T = TypeVar("T", bound=BaseModel)

_lock = threading.Lock()


@functools.cache
def _read(model_type: type[BaseModel], path: str, what: str) -> BaseModel:
    """The validated artefact at ``path`` (read once per type and path)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return model_type.model_validate(raw)
    except OSError as exc:
        raise ModelArtifactError(path, f"unreadable ({exc.strerror})") from None
    except (ValueError, ValidationError) as exc:
        raise ModelArtifactError(path, f"invalid {what} ({exc})") from None


def load_pinned(
    model_type: type[T], path: Path, *, what: str, model_version: str | None
) -> T | None:
    """Load the artefact at ``path`` once, validated; ``None`` when the file does not exist.

    Parameters
    ----------
    model_type : type of pydantic.BaseModel
        The artefact's type; it has a ``model_version`` field naming the text model it was fitted for.
    path : pathlib.Path
        The JSON file.
    what : str
        What it is, for error messages ("calibration table", "combiner").
    model_version : str or None
        The version of the text model in use; ``None`` skips the check.

    Returns
    -------
    model_type or None

    Raises
    ------
    ModelArtifactError
        The file is unreadable or invalid, or was fitted for another model version (the message
        says to run ``icp-notify calibrate``).

    Examples
    --------
    >>> from icp_notify.combiner import Combiner
    >>> load_pinned(Combiner, Path("/nonexistent.json"), what="combiner", model_version=None) is None
    True
    """
    if not path.exists():
        return None
    with _lock:
        loaded = _read(model_type, str(path), what)
    assert isinstance(loaded, model_type)
    pinned: _Pinned = loaded  # type: ignore[assignment]
    if model_version is not None and pinned.model_version != model_version:
        raise ModelArtifactError(
            str(path),
            f"fitted for model {pinned.model_version}, not {model_version};"
            " run `icp-notify calibrate` after training",
        )
    return loaded
