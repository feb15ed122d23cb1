"""A fixed sample report (an access cancellation) for ``icp-notify alerts test`` and the docs.

It is built without the text model: the notice is parsed, the classification is fixed, and the
advice comes from the shipped advisor, so the sample card shows the real advice texts.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from icp_notify._version import __version__
from icp_notify.models import SHANGHAI, Classification, Decider, Kind, Report, Situation

__all__ = ["SAMPLE_FILING", "SAMPLE_TEXT", "sample_report"]

SAMPLE_FILING = "shop-example-cn"
"""The filing name the sample alert is sent for."""

SAMPLE_TEXT = (
    "【阿里云】尊敬的用户，您的网站 shop.example.cn（浙ICP备2020012345号-1）已在阿里云完成取消接入。"
    "如网站已迁移至其他接入商，请确认新接入商处的接入备案已通过，否则您的备案可能被注销。"
)
"""The sample notice: a provider's access cancellation (urgency ``critical``)."""

_RECEIVED = dt.datetime(2025, 3, 4, 17, 20, tzinfo=SHANGHAI)


def sample_report(lang: Literal["zh", "en"] = "zh") -> Report:
    """The sample access-cancellation report, with the shipped advice in ``lang``.

    Parameters
    ----------
    lang : {"zh", "en"}
        The advice language.

    Returns
    -------
    Report

    Examples
    --------
    >>> r = sample_report("en")
    >>> r.classification.situation.value, r.advice.urgency.value, r.advice.lang
    ('access_cancelled', 'critical', 'en')
    """
    from icp_notify.advisor import Advisor
    from icp_notify.parse import parse

    notice = parse(SAMPLE_TEXT, channel="sms", sender="10655000001", received_at=_RECEIVED)
    cls = Classification(
        situation=Situation.ACCESS_CANCELLED,
        ambiguous=False,
        candidates=(Situation.ACCESS_CANCELLED,),
        confidence=0.99,
        probabilities={s: (0.99 if s == Situation.ACCESS_CANCELLED else 0.0025) for s in Situation},
        kind=Kind.PROVIDER_ACCESS_CANCELLED,
        decided_by=(Decider.RULES,),
    )
    advice = Advisor.default().advise(cls, notice, lang=lang)
    return Report(notice=notice, classification=cls, advice=advice, version=__version__)
