"""The advice card of an alert, built once from a :class:`~icp_notify.models.Report`.

The texts are the advisor's (``Report.advice`` in the route's language); this module only lays
them out as Markdown (DingTalk, Feishu, WeCom) or plain text (e-mail), and cuts a card that is
too long for a channel at a line boundary, keeping the idempotency key at the end.

Examples
--------
>>> from icp_notify.alerts.card import fit
>>> fit("line one\\nline two\\nline three", 24, "en")
'line one\\n… (truncated)'
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from icp_notify.models import SHANGHAI, Report, Situation, Urgency

__all__ = ["AlertCard", "Change", "build_card", "fit"]

_SITUATION_ZH = {
    "new_domain": "新增域名",
    "modify_domain": "修改域名",
    "access_domain": "接入域名",
    "access_cancelled": "取消接入",
    "other": "非变更通知",
}
_URGENCY_ZH = {"critical": "紧急", "high": "高", "normal": "一般", "info": "提示"}

_LABELS = {
    "zh": {
        "filing": "备案",
        "situation": "判断",
        "ambiguous": "不确定，可能是",
        "urgency": "紧急程度",
        "todo": "建议",
        "steps": "步骤",
        "notice": "原文",
        "deadline": "截止",
        "reachable": "预计可访问",
        "why": "依据",
        "changed": "情况变化",
        "escalation": "升级",
        "test": "测试",
        "key": "消息编号",
        "truncated": "…（已截断）",
        "notice_no": "通知",
    },
    "en": {
        "filing": "Filing",
        "situation": "Situation",
        "ambiguous": "undecided, one of",
        "urgency": "Urgency",
        "todo": "Advice",
        "steps": "Steps",
        "notice": "Notice",
        "deadline": "Deadline",
        "reachable": "Reachable after",
        "why": "Why",
        "changed": "What changed",
        "escalation": "ESCALATED",
        "test": "TEST",
        "key": "Message id",
        "truncated": "… (truncated)",
        "notice_no": "notice",
    },
}


class Change(BaseModel):
    """What a reclassification changed (the reason for a follow-up alert).

    Parameters
    ----------
    old_situation, new_situation : Situation or None
        ``None`` is an undecided (ambiguous) notice.
    old_urgency, new_urgency : Urgency
        Before and after.
    """

    model_config = ConfigDict(frozen=True)

    old_situation: Situation | None
    new_situation: Situation | None
    old_urgency: Urgency
    new_urgency: Urgency


class AlertCard(BaseModel):
    """One alert, laid out: a title and labelled sections, in one language.

    Build it with :func:`build_card`; render it with :meth:`markdown` or :meth:`plain`.
    """

    model_config = ConfigDict(frozen=True)

    lang: Literal["zh", "en"]
    urgency: Urgency
    title: str
    change: str | None = None
    fields: tuple[tuple[str, str], ...]
    summary: str
    steps: tuple[str, ...] = ()
    notice_text: str
    why: str = ""

    def labels(self) -> dict[str, str]:
        """The section labels of :attr:`lang`."""
        return _LABELS[self.lang]

    def markdown(self, *, heading: bool = True) -> str:
        """The card as chat Markdown (headings, bold labels, numbered steps, a quote).

        Parameters
        ----------
        heading : bool, default True
            Start with ``### title`` (Feishu shows the title in the card header instead).

        Returns
        -------
        str
        """
        t = self.labels()
        lines = [f"### {self.title}"] if heading else []
        if self.change:
            lines.append(f"**{t['changed']}**: {self.change}")
        lines += [f"**{label}**: {value}" for label, value in self.fields]
        lines.append(f"**{t['todo']}**: {self.summary}")
        lines += [f"{i}. {step}" for i, step in enumerate(self.steps, 1)]
        if self.why:
            lines.append(f"**{t['why']}**: {self.why}")
        lines.append(f"> {t['notice']}: " + " ".join(self.notice_text.split()))
        return "\n\n".join(lines) if heading else "\n".join(lines)

    def plain(self) -> str:
        """The card as plain text (e-mail bodies).

        Returns
        -------
        str
        """
        t = self.labels()
        lines = [self.title, ""]
        if self.change:
            lines.append(f"{t['changed']}: {self.change}")
        lines += [f"{label}: {value}" for label, value in self.fields]
        lines += ["", f"{t['todo']}: {self.summary}"]
        lines += [f"  {i}. {step}" for i, step in enumerate(self.steps, 1)]
        if self.why:
            lines += ["", f"{t['why']}: {self.why}"]
        lines += ["", f"{t['notice']}:", self.notice_text]
        return "\n".join(lines)


def _situation(value: Situation | None, lang: str) -> str:
    if value is None:
        return "未定" if lang == "zh" else "undecided"
    return f"{value.value}（{_SITUATION_ZH[value.value]}）" if lang == "zh" else value.value


def _urgency(value: Urgency, lang: str) -> str:
    return f"{value.value}（{_URGENCY_ZH[value.value]}）" if lang == "zh" else value.value


def build_card(
    report: Report,
    *,
    filing: str,
    notice_id: int | None = None,
    change: Change | None = None,
    test: bool = False,
) -> AlertCard:
    """Lay out ``report`` as an alert card in the language of its advice.

    Parameters
    ----------
    report : Report
        The stored report (its advice already in the route's language).
    filing : str
        The filing the notice belongs to.
    notice_id : int, optional
        The stored notice's id.
    change : Change, optional
        For a follow-up alert: what the reclassification changed.
    test : bool, default False
        Mark the card as a test (``icp-notify alerts test``).

    Returns
    -------
    AlertCard

    Examples
    --------
    >>> from icp_notify.alerts.sample import sample_report
    >>> card = build_card(sample_report("en"), filing="shop-example-cn", notice_id=7)
    >>> card.title
    '[CRITICAL] access_cancelled · shop-example-cn'
    >>> card.fields[0]
    ('Filing', 'shop-example-cn (notice 7)')
    """
    advice, cls = report.advice, report.classification
    lang = advice.lang
    t = _LABELS[lang]
    if cls.ambiguous or cls.situation is None:
        what = ("未定" if lang == "zh" else "undecided") + "?"
        situation = (
            f"{t['ambiguous']} "
            + ("、" if lang == "zh" else ", ").join(_situation(c, lang) for c in cls.candidates)
        ).strip()
    else:
        what = cls.situation.value
        situation = _situation(cls.situation, lang)
    prefix = f"[{t['test']}] " if test else ""
    if change is not None:
        prefix += f"[{t['escalation']}] "
    title = f"{prefix}[{advice.urgency.value.upper()}] {what} · {filing}"
    where = filing if notice_id is None else f"{filing} ({t['notice_no']} {notice_id})"
    fields = [
        (t["filing"], where),
        (t["situation"], situation),
        (t["urgency"], _urgency(advice.urgency, lang)),
    ]
    if advice.deadline is not None:
        fields.append(
            (t["deadline"], advice.deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"))
        )
    if advice.reachable_after is not None:
        fields.append(
            (t["reachable"], advice.reachable_after.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"))
        )
    change_text = None
    if change is not None:
        change_text = (
            f"{_situation(change.old_situation, lang)} → {_situation(change.new_situation, lang)}"
            f"; {_urgency(change.old_urgency, lang)} → {_urgency(change.new_urgency, lang)}"
        )
    return AlertCard(
        lang=lang,
        urgency=advice.urgency,
        title=title,
        change=change_text,
        fields=tuple(fields),
        summary=advice.summary,
        steps=advice.steps,
        notice_text=report.notice.raw_text,
        why=advice.why,
    )


def fit(text: str, limit: int, lang: Literal["zh", "en"]) -> str:
    """Cut ``text`` to at most ``limit`` UTF-8 bytes at a line (or character) boundary.

    A cut text ends with a "(truncated)" line in ``lang``; a text that fits is returned as is.

    Parameters
    ----------
    text : str
        The rendered card.
    limit : int
        The largest size in UTF-8 bytes.
    lang : {"zh", "en"}
        The language of the marker.

    Returns
    -------
    str
        At most ``limit`` bytes, never a broken multi-byte character.
    """
    if len(text.encode("utf-8")) <= limit:
        return text
    marker = _LABELS[lang]["truncated"]
    budget = limit - len(marker.encode("utf-8")) - 1
    if budget <= 0:
        return marker.encode("utf-8")[:limit].decode("utf-8", "ignore")
    head = text.encode("utf-8")[:budget].decode("utf-8", "ignore")
    cut = head.rfind("\n")
    if cut > len(head) // 2:  # prefer a whole line when that keeps most of the text
        head = head[:cut]
    return head.rstrip() + "\n" + marker
