"""The whole flow in one call: parse → classify → advise, bundled in a :class:`~icp_notify.models.Report`.

:class:`Pipeline` holds a classifier (rules + text model + context policy) and an
:class:`~icp_notify.advisor.Advisor`. :meth:`Pipeline.default` builds the shipped one on first use,
once, under a lock, and shares it: the CLI, batch jobs and the HTTP server all use the same object.
Nothing here carries state between calls; history goes in through ``context``.

Examples
--------
>>> from icp_notify.models import Classification, Kind, Situation
>>> class Fixed:  # any object with classify_notice(notice, context) will do
...     def classify_notice(self, notice, context=None):
...         return Classification(situation=Situation.OTHER, ambiguous=False,
...             candidates=(Situation.OTHER,), confidence=0.99,
...             probabilities={Situation.OTHER: 1.0}, kind=Kind.MARKETING)
>>> report = Pipeline(Fixed()).analyze("【某云】备案季大促，云服务器 9.9 元起", lang="en")
>>> report.classification.kind.value, report.advice.action.value, report.advice.lang
('marketing', 'none', 'en')
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any, Protocol

from icp_notify._version import __version__
from icp_notify.advisor import Advisor
from icp_notify.boundary import coerce_context
from icp_notify.models import (
    Advice,
    Channel,
    Classification,
    Context,
    Notice,
    RawMessage,
    Report,
    construct_trusted,
)

__all__ = ["ClassifierLike", "Pipeline", "analyze"]


class ClassifierLike(Protocol):
    """What the pipeline needs from a classifier (the real one, or a fake in tests)."""

    def classify_notice(
        self, notice: Notice, context: Context | None = None
    ) -> Classification:  # pragma: no cover - protocol
        """Classify a parsed notice, using ``context`` when given.

        Parameters
        ----------
        notice : Notice
            The parsed notice.
        context : Context, optional
            The user's recent filing operations and earlier notices.

        Returns
        -------
        Classification
        """
        ...


class Pipeline:
    """Parse, classify and advise — the whole of icp_notify behind one object.

    Parameters
    ----------
    classifier : object with ``classify_notice(notice, context=None) -> Classification``
        Usually :meth:`icp_notify.classifier.Classifier.default`.
    advisor : Advisor, optional
        Defaults to :meth:`Advisor.default`.

    Notes
    -----
    A pipeline is immutable once built and safe to share between threads.

    Examples
    --------
    >>> from icp_notify.classifier import Classifier
    >>> pipe = Pipeline(Classifier.default())
    >>> report = pipe.analyze("【某云】尊敬的用户，您的网站 example-shop.cn 已完成取消接入。",
    ...                       now="2025-03-05T10:00:00+08:00")
    >>> report.classification.situation.value
    'access_cancelled'
    """

    _default: Pipeline | None = None
    _lock = threading.Lock()

    def __init__(self, classifier: ClassifierLike, advisor: Advisor | None = None) -> None:
        self.classifier = classifier
        self.advisor = advisor if advisor is not None else Advisor.default()

    @classmethod
    def default(cls) -> Pipeline:
        """The shipped pipeline (rules, model and advice loaded once), shared by every caller.

        Thread-safe: concurrent first calls build it once and all get the same object.

        Returns
        -------
        Pipeline
            The same object on every call.

        Examples
        --------
        >>> pipeline = Pipeline.default()
        >>> pipeline is Pipeline.default()
        True
        >>> report = pipeline.analyze("【工业和信息化部】尊敬的用户，您的网站备案（京ICP备12345678号）"
        ...                           "已被注销，如有疑问请联系接入服务提供商。", channel="sms")
        >>> report.classification.kind.value, report.advice.action.value
        ('filing_cancelled', 'confirm_cancellation')
        """
        pipeline = cls._default
        if pipeline is None:
            with cls._lock:
                pipeline = cls._default
                if pipeline is None:
                    from icp_notify.classifier import Classifier

                    pipeline = cls(Classifier.default(), Advisor.default())
                    Pipeline._default = pipeline
        return pipeline

    def analyze(
        self,
        data: str | bytes | RawMessage,
        *,
        channel: Channel | str | None = None,
        sender: str | None = None,
        received_at: dt.datetime | str | None = None,
        context: Context | Mapping[str, Any] | None = None,
        now: dt.datetime | str | None = None,
        lang: str = "zh",
    ) -> Report:
        """Parse a notice, classify it and advise.

        Parameters
        ----------
        data : str, bytes or RawMessage
            The notice (SMS text, e-mail bytes, a forwarded copy, …).
        channel, sender, received_at
            What the caller knows about how the notice arrived (see :func:`icp_notify.parse.parse`);
            ``received_at`` anchors ``reachable_after`` and relative deadlines.
        context : Context or dict, optional
            The user's recent filing operations and earlier notices; settles the generic notice.
        now : datetime or ISO string, optional
            The current time, for ``wait`` and clock-dependent steps.
        lang : {"zh", "en"}
            Language of the advice.

        Returns
        -------
        Report

        Raises
        ------
        InputError
            Empty, oversized or undecodable input, a malformed context, time or language.

        Examples
        --------
        The generic MIIT notice alone cannot say which change happened; with the user's recent
        operation as context it can:

        >>> text = "尊敬的用户张三，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
        >>> pipeline = Pipeline.default()
        >>> report = pipeline.analyze(text, channel="sms", lang="en")
        >>> report.classification.ambiguous, report.classification.situation
        (True, None)
        >>> report.advice.action.value
        'check_candidates'
        >>> ops = {"operations": [{"kind": "new_domain", "submitted_at": "2025-03-01T10:00:00"}]}
        >>> report = pipeline.analyze(text, channel="sms", received_at="2025-03-05T09:00:00",
        ...                           context=ops)
        >>> report.classification.situation.value
        'new_domain'
        >>> pipeline.analyze("")
        Traceback (most recent call last):
        ...
        icp_notify.errors.InputError: ...
        """
        from icp_notify.parse import parse

        ctx = coerce_context(context)
        if ctx is None and isinstance(data, RawMessage):
            ctx = data.context
        notice = parse(data, channel=channel, sender=sender, received_at=received_at)
        return self.analyze_notice(notice, context=ctx, now=now, lang=lang)

    def analyze_notice(
        self,
        notice: Notice,
        context: Context | Mapping[str, Any] | None = None,
        now: dt.datetime | str | None = None,
        lang: str = "zh",
    ) -> Report:
        """Classify and advise a notice that is parsed already (batch jobs and the server use it).

        Parameters
        ----------
        notice : Notice
            A notice from :func:`icp_notify.parse.parse`.
        context : Context or dict, optional
            The user's recent filing operations and earlier notices.
        now : datetime or ISO string, optional
            The current time, for ``wait`` and clock-dependent steps.
        lang : {"zh", "en"}
            Language of the advice.

        Returns
        -------
        Report
        """
        ctx = coerce_context(context)
        classification = self.classifier.classify_notice(notice, ctx)
        advice = self.advisor.advise(classification, notice, now=now, lang=lang)
        values = {
            "notice": notice,
            "classification": classification,
            "advice": advice,
            "version": __version__,
        }
        if (
            type(notice) is Notice
            and type(classification) is Classification
            and type(advice) is Advice
        ):
            # validation would keep these model instances as they are: build it without it
            return construct_trusted(Report, values)
        return Report(**values)


def analyze(
    data: str | bytes | RawMessage,
    *,
    channel: Channel | str | None = None,
    sender: str | None = None,
    received_at: dt.datetime | str | None = None,
    context: Context | Mapping[str, Any] | None = None,
    now: dt.datetime | str | None = None,
    lang: str = "zh",
) -> Report:
    """Parse, classify and advise with the shipped :meth:`Pipeline.default`.

    Parameters
    ----------
    data : str, bytes or RawMessage
        The notice (SMS text, e-mail bytes, a forwarded copy, …).
    channel : Channel or str, optional
        How the notice arrived (``"sms"``, ``"email"``, …); guessed when omitted.
    sender : str, optional
        The SMS sender number or e-mail address.
    received_at : datetime or ISO string, optional
        When the notice arrived; anchors ``reachable_after`` and relative deadlines.
    context : Context or dict, optional
        The user's recent filing operations and earlier notices; settles the generic notice.
    now : datetime or ISO string, optional
        The current time, for ``wait`` and clock-dependent steps.
    lang : {"zh", "en"}
        Language of the advice.

    Returns
    -------
    Report
        The parsed notice, its classification and the advice.

    Raises
    ------
    InputError
        Empty, oversized or undecodable input, a malformed context, time or language.

    See Also
    --------
    Pipeline.analyze : the same with a pipeline of your own.

    Examples
    --------
    >>> report = analyze("【工业和信息化部】尊敬的用户，您的网站备案（京ICP备12345678号）"
    ...                  "已被注销，如有疑问请联系接入服务提供商。", channel="sms")
    >>> report.notice.sender_type.value, report.notice.entities.icp_numbers[0].text
    ('miit', '京ICP备12345678号')
    >>> report.classification.kind.value, report.advice.urgency.value
    ('filing_cancelled', ...)
    """
    return Pipeline.default().analyze(
        data,
        channel=channel,
        sender=sender,
        received_at=received_at,
        context=context,
        now=now,
        lang=lang,
    )
