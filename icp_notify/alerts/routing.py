"""Which channels a notice goes to, decided when the notice is stored.

:class:`Router` is the :class:`~icp_notify.server.outbox.AlertRouter` the store calls inside
its write transaction: for a new notice, every route whose filing globs match and whose minimum
urgency is reached gives one alert per channel; for a changed report, a follow-up alert when
the urgency *rose* to or past the route's minimum (e.g. an undecided notice that becomes
``access_cancelled`` once the operation is registered). Quiet hours hold an alert until the
window ends, except a ``critical`` one. A route in another language than the report gets the
advisor's texts in that language (the shipped ``advice.toml``; nothing is written twice) — unless
that advisor would give another action or urgency than the stored report (a pipeline with its
own advice file), in which case the card keeps the report's language.

Examples
--------
>>> import datetime as dt
>>> from icp_notify.alerts.config import AlertsConfig
>>> from icp_notify.alerts.sample import sample_report
>>> config = AlertsConfig.from_toml('''
... [channels.ops]
... type = "webhook"
... url = "http://127.0.0.1:9/hook"
... [[routes]]
... filings = ["shop-*"]
... channels = ["ops"]
... lang = "en"
... quiet_hours = "22:00-08:00"
... ''')
>>> router = Router(config)
>>> night = dt.datetime(2025, 3, 4, 23, 0, tzinfo=config.zone)
>>> [d.channel for d in router.for_notice("shop-example-cn", sample_report(), night)]
['ops']
>>> draft = router.for_notice("shop-example-cn", sample_report(), night)[0]
>>> draft.lang, draft.not_before is None  # critical: quiet hours never hold it
('en', True)
>>> router.for_notice("blog-example-cn", sample_report(), night)
[]
"""

from __future__ import annotations

import datetime as dt

from icp_notify.alerts.card import Change
from icp_notify.alerts.config import AlertsConfig, RouteConfig, urgent_enough
from icp_notify.models import URGENCY_ORDER, Report, Urgency
from icp_notify.server.outbox import AlertDraft

__all__ = ["Router", "is_escalation"]


def is_escalation(old: Report, new: Report) -> bool:
    """Whether ``new`` escalates ``old``: it is more urgent, or it settles an ambiguous notice on
    a situation at least as urgent (ambiguous → ``access_cancelled`` after an operation is
    registered: the same urgency, but now certain).

    Parameters
    ----------
    old, new : Report
        The report before and after a reclassification.

    Returns
    -------
    bool
    """
    rank_old = URGENCY_ORDER.index(old.advice.urgency)
    rank_new = URGENCY_ORDER.index(new.advice.urgency)
    if rank_new < rank_old:
        return True
    return (
        old.classification.ambiguous and not new.classification.ambiguous and rank_new <= rank_old
    )


class Router:
    """Routes from an alerts file (see the module docstring).

    Parameters
    ----------
    config : AlertsConfig
        The alerts file.
    """

    def __init__(self, config: AlertsConfig) -> None:
        self.config = config

    def _in_lang(self, report: Report, route: RouteConfig, at: dt.datetime) -> Report:
        if report.advice.lang == route.lang:
            return report
        from icp_notify.advisor import Advisor

        advice = Advisor.default().advise(
            report.classification, report.notice, now=at, lang=route.lang
        )
        if (advice.action, advice.urgency) != (report.advice.action, report.advice.urgency):
            # a pipeline with its own advice file: never send a card that contradicts the
            # stored report; send it in the report's language instead
            return report
        return report.model_copy(update={"advice": advice})

    def _drafts(
        self,
        filing: str,
        report: Report,
        at: dt.datetime,
        event: str,
        change: Change | None,
    ) -> list[AlertDraft]:
        urgency = report.advice.urgency
        out: list[AlertDraft] = []
        seen: set[str] = set()
        for route in self.config.routes:
            if not route.matches(filing) or not urgent_enough(urgency, route.min_urgency):
                continue
            if change is not None and not route.escalations:
                continue
            not_before = None
            if route.quiet_hours is not None and urgency != Urgency.CRITICAL:
                not_before = route.quiet_hours.release(at.astimezone(self.config.zone))
            localized = self._in_lang(report, route, at)
            report_json = localized.model_dump_json()
            for channel in route.channels:
                if channel in seen:  # two routes naming a channel: the first route wins
                    continue
                seen.add(channel)
                out.append(
                    AlertDraft(
                        channel=channel,
                        event=event,
                        lang=route.lang,
                        urgency=urgency,
                        report_json=report_json,
                        change_json=change.model_dump_json() if change is not None else None,
                        not_before=not_before,
                    )
                )
        return out

    def for_notice(self, filing: str, report: Report, at: dt.datetime) -> list[AlertDraft]:
        """The alerts of a newly stored notice.

        Parameters
        ----------
        filing : str
            The notice's filing.
        report : Report
            Its report.
        at : datetime
            Now (aware); quiet hours are read in the file's time zone.

        Returns
        -------
        list of AlertDraft
            One per channel of every matching route the urgency reaches.
        """
        return self._drafts(filing, report, at, "notice", None)

    def for_change(
        self, filing: str, old: Report, new: Report, at: dt.datetime
    ) -> list[AlertDraft]:
        """Follow-up alerts when the urgency rose to or past a route's minimum.

        Parameters
        ----------
        filing : str
            The notice's filing.
        old, new : Report
            The stored report and its replacement.
        at : datetime
            Now (aware).

        Returns
        -------
        list of AlertDraft
            Empty unless ``new`` escalates ``old`` (:func:`is_escalation`); each carries the
            change.
        """
        if not is_escalation(old, new):
            return []
        change = Change(
            old_situation=old.classification.situation,
            new_situation=new.classification.situation,
            old_urgency=old.advice.urgency,
            new_urgency=new.advice.urgency,
        )
        old_sit = old.classification.situation
        new_sit = new.classification.situation
        event = (
            f"escalation:{old.advice.urgency.value}>{new.advice.urgency.value}:"
            f"{old_sit.value if old_sit else 'ambiguous'}>{new_sit.value if new_sit else 'ambiguous'}"
        )
        return self._drafts(filing, new, at, event, change)
