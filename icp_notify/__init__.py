"""icp_notify: read ICP filing (ICP备案) notices, classify them, and advise what to do next.

Importing the package reads no file and loads neither jieba, scikit-learn nor even pydantic:
the public data types and functions are imported on first use (PEP 562 ``__getattr__``).

Examples
--------
>>> import icp_notify
>>> icp_notify.Situation.ACCESS_CANCELLED.value
'access_cancelled'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from icp_notify._version import __version__
from icp_notify.errors import (
    AdviceFileError,
    CorpusError,
    DataFileError,
    IcpNotifyError,
    InputError,
    ModelArtifactError,
    RuleFileError,
)

if TYPE_CHECKING:
    from icp_notify.advisor import advise
    from icp_notify.classifier import classify
    from icp_notify.context import NoticeAttribution, OperationTrace, Timeline, explain_timeline
    from icp_notify.models import (
        Action,
        Advice,
        Channel,
        Classification,
        Context,
        Entities,
        Evidence,
        Kind,
        Notice,
        Operation,
        PriorNotice,
        RawMessage,
        Report,
        SenderType,
        Situation,
        Urgency,
    )
    from icp_notify.parse import parse
    from icp_notify.pipeline import Pipeline, analyze

_LAZY = {
    "Action": "icp_notify.models",
    "Advice": "icp_notify.models",
    "Channel": "icp_notify.models",
    "Classification": "icp_notify.models",
    "Context": "icp_notify.models",
    "Entities": "icp_notify.models",
    "Evidence": "icp_notify.models",
    "Kind": "icp_notify.models",
    "Notice": "icp_notify.models",
    "Operation": "icp_notify.models",
    "PriorNotice": "icp_notify.models",
    "RawMessage": "icp_notify.models",
    "Report": "icp_notify.models",
    "SenderType": "icp_notify.models",
    "Situation": "icp_notify.models",
    "Urgency": "icp_notify.models",
    "NoticeAttribution": "icp_notify.context",
    "OperationTrace": "icp_notify.context",
    "Timeline": "icp_notify.context",
    "explain_timeline": "icp_notify.context",
    "parse": "icp_notify.parse",
    "classify": "icp_notify.classifier",
    "advise": "icp_notify.advisor",
    "analyze": "icp_notify.pipeline",
    "Pipeline": "icp_notify.pipeline",
}

__all__ = [
    "Action",
    "Advice",
    "AdviceFileError",
    "Channel",
    "Classification",
    "Context",
    "CorpusError",
    "DataFileError",
    "Entities",
    "Evidence",
    "IcpNotifyError",
    "InputError",
    "Kind",
    "ModelArtifactError",
    "Notice",
    "NoticeAttribution",
    "Operation",
    "OperationTrace",
    "Pipeline",
    "PriorNotice",
    "RawMessage",
    "Report",
    "RuleFileError",
    "SenderType",
    "Situation",
    "Timeline",
    "Urgency",
    "__version__",
    "advise",
    "analyze",
    "classify",
    "explain_timeline",
    "parse",
]


def __getattr__(name: str) -> Any:
    """Import the heavy public functions on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'icp_notify' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
