"""``icp-notify analyze``: parse, classify and advise one notice; print a card or the Report JSON.

Usage::

    icp-notify analyze [TEXT|-] [--received-at ISO] [--context FILE.json] [--now ISO]
                       [--lang zh|en] [--channel sms|email] [--sender S] [--json]

Without TEXT (or with ``-``) the notice is read from standard input as bytes, so an ``.eml`` file
can be piped in. ``--json`` prints exactly ``Report.model_dump_json()``.

This module also holds :func:`render_card`, the readable card that ``demo`` and
``docs/gen_advice.py`` print too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from icp_notify.models import Report

__all__ = ["add_arguments", "field_lines", "render_card", "run"]

WIDTH = 100
"""Card width in terminal columns (CJK characters count two)."""

_LABEL = 12

_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "notice": "通知",
        "situation": "情况",
        "ambiguous": "无法确定，可能是",
        "confidence": "置信度",
        "kind": "类别",
        "urgency": "紧急程度",
        "action": "动作",
        "todo": "怎么做",
        "when": "时间",
        "reachable": "预计可访问",
        "deadline": "截止",
        "left": "还剩",
        "passed": "已过",
        "why": "依据",
        "refs": "参考",
        "decided": "判定依据",
        "received": "收到",
        "from": "发件人",
        "unknown_time": "（收到时间未知，无法推算）",
    },
    "en": {
        "notice": "notice",
        "situation": "situation",
        "ambiguous": "ambiguous, could be",
        "confidence": "confidence",
        "kind": "kind",
        "urgency": "urgency",
        "action": "action",
        "todo": "what to do",
        "when": "by when",
        "reachable": "reachable after",
        "deadline": "deadline",
        "left": "left",
        "passed": "passed",
        "why": "why",
        "refs": "references",
        "decided": "decided by",
        "received": "received",
        "from": "from",
        "unknown_time": "(time received unknown, cannot compute)",
    },
}

_SITUATION_ZH = {
    "new_domain": "新增域名",
    "modify_domain": "修改域名",
    "access_domain": "接入域名",
    "access_cancelled": "取消接入",
    "other": "其他，非变更通知",
}

_URGENCY_MARK = {"critical": "!!!", "high": "!!", "normal": "!", "info": "i"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _tokens(text: str) -> list[str]:
    """Split into wrap units: runs of non-CJK non-space characters, single CJK characters, spaces."""
    out: list[str] = []
    word = ""
    for ch in text:
        if ch == " " or unicodedata.east_asian_width(ch) in "WF":
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        else:
            word += ch
    if word:
        out.append(word)
    return out


_NO_LINE_START = set("，。：；、）！？”》,.;:!?)")
_NO_LINE_END = set("（“《(")


def _wrap(text: str, width: int) -> list[str]:
    """Wrap mixed Chinese/English text to ``width`` columns (never splits an ASCII word)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for tok in _tokens(paragraph):
            if line and _width(line) + _width(tok) > width and tok != " ":
                if tok in _NO_LINE_START:  # keep closing punctuation on the line it closes
                    line += tok
                    continue
                carry = ""
                while (
                    line and line[-1] in _NO_LINE_END
                ):  # an opening bracket goes with what it opens
                    carry, line = line[-1] + carry, line[:-1]
                lines.append(line.rstrip())
                line = carry
            if not line and tok == " ":
                continue
            line += tok
        lines.append(line.rstrip())
    return lines


def field_lines(label: str, value: str, *, hang: int = 0) -> list[str]:
    """One labelled field of a card, wrapped under its value column.

    Parameters
    ----------
    label : str
        The field's label (may be wide CJK text).
    value : str
        The field's value.
    hang : int, default 0
        Extra indent of the continuation lines.

    Returns
    -------
    list of str
        The card lines.
    """
    pad = _LABEL - _width(label)
    first = f" {label}{' ' * max(pad, 1)}"
    body = _wrap(value, WIDTH - _LABEL - 1 - hang)
    out = [first + body[0]]
    out.extend(" " * (_LABEL + 1 + hang) + rest for rest in body[1:])
    return out


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _local(value: dt.datetime) -> str:
    from icp_notify.models import SHANGHAI

    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") + " Asia/Shanghai"


def _span(delta: dt.timedelta, lang: str) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if lang == "zh":
        parts = [f"{days} 天" if days else "", f"{hours} 小时" if hours else "", f"{mins} 分"]
    else:
        parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min"]
    return " ".join(p for p in parts if p)


def render_card(report: Report, *, title: str | None = None, now: dt.datetime | None = None) -> str:
    """Render a report as a readable card (plain text, in the advice's language).

    Parameters
    ----------
    report : Report
        What :meth:`icp_notify.pipeline.Pipeline.analyze` returned.
    title : str, optional
        A heading (the demo puts the example's name there).
    now : datetime, optional
        The current time, to say how long is left until a deadline.

    Returns
    -------
    str
        Lines of at most about :data:`WIDTH` columns; times in Asia/Shanghai.
    """
    advice, cls, notice = report.advice, report.classification, report.notice
    lang = advice.lang
    t = _LABELS[lang]
    lines: list[str] = []
    mark = _URGENCY_MARK[advice.urgency.value]
    head = f"[{mark}] {advice.urgency.value.upper()} · {advice.action.value}"
    if title:
        head = f"{head} · {title}"
    lines.append("━" * 3 + " " + head + " " + "━" * max(3, WIDTH - _width(head) - 5))

    shown = " ".join(notice.raw_text.split())
    if len(shown) > 240:  # an e-mail or a wrapped forward: show the extracted body
        shown = notice.text
    snippet = shown if len(shown) <= 160 else shown[:157] + "…"
    lines += field_lines(t["notice"], snippet)
    meta = [notice.channel.value]
    if notice.sender:
        meta.append(f"{t['from']} {notice.sender}")
    if notice.received_at is not None:
        meta.append(f"{t['received']} {_local(notice.received_at)}")
    lines += field_lines("", " · ".join(meta))

    def situation_name(value: str) -> str:
        if lang == "zh":
            return f"{value}（{_SITUATION_ZH[value]}）"
        return "other (not a change notice)" if value == "other" else value

    if cls.ambiguous:
        sep = "：" if lang == "zh" else ": "
        value = t["ambiguous"] + sep + ", ".join(situation_name(c.value) for c in cls.candidates)
    else:
        assert cls.situation is not None
        value = situation_name(cls.situation.value)
    lines += field_lines(t["situation"], value)
    lines += field_lines(t["confidence"], f"{cls.confidence:.2f}    {t['kind']}: {cls.kind.value}")
    lines += field_lines(
        t["urgency"], f"{advice.urgency.value}    {t['action']}: {advice.action.value}"
    )

    lines += field_lines(t["todo"], advice.summary)
    for i, step in enumerate(advice.steps, 1):
        num = f"{i}. "
        body = _wrap(step, WIDTH - _LABEL - 1 - len(num))
        lines.append(" " * (_LABEL + 1) + num + body[0])
        lines.extend(" " * (_LABEL + 1 + len(num)) + rest for rest in body[1:])

    when: list[str] = []
    if advice.reachable_after is not None:
        item = f"{t['reachable']} {_local(advice.reachable_after)}"
        if advice.wait is not None:
            item += (
                f" ({t['left']} {_span(advice.wait, lang)})"
                if advice.wait > dt.timedelta(0)
                else f" ({t['passed']})"
            )
        when.append(item)
    if advice.deadline is not None:
        item = f"{t['deadline']} {_local(advice.deadline)}"
        if now is not None:
            left = advice.deadline - now
            item += (
                f" ({t['left']} {_span(left, lang)})"
                if left > dt.timedelta(0)
                else f" ({t['passed']})"
            )
        when.append(item)
    for i, item in enumerate(when):
        lines += field_lines(t["when"] if i == 0 else "", item)

    lines += field_lines(t["why"], advice.why)
    for i, ref in enumerate(advice.references):
        lines += field_lines(t["refs"] if i == 0 else "", f"{ref.title}  {ref.url}")
    decided = " + ".join(d.value for d in cls.decided_by) or "-"
    evidence = [
        f"{e.source}:{e.id}" + (f" «{_clip(e.matched, 24)}»" if e.matched else "")
        for e in cls.evidence
        if e.source != "model"
    ][:3]
    if evidence:
        decided += "  (" + "; ".join(evidence) + ")"
    lines += field_lines(t["decided"], decided)
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``icp-notify analyze``."""
    parser.add_argument(
        "text", nargs="?", default=None, help="the notice text; '-' or nothing reads standard input"
    )
    parser.add_argument(
        "--received-at", help="when the notice arrived (ISO 8601; naive = Asia/Shanghai)"
    )
    parser.add_argument("--context", type=Path, help="JSON file with operations / previous_notices")
    parser.add_argument("--now", help="the current time (ISO 8601), for waits and deadlines")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the advice")
    parser.add_argument("--channel", choices=("sms", "email"), help="how the notice arrived")
    parser.add_argument("--sender", help="the sender (phone number or e-mail address)")
    parser.add_argument("--json", action="store_true", help="print Report.model_dump_json()")


def run(args: argparse.Namespace) -> int:
    """Analyze one notice and print the card (or the Report JSON with ``--json``)."""
    from icp_notify.boundary import coerce_time
    from icp_notify.commands import read_context
    from icp_notify.pipeline import Pipeline

    reads_stdin = args.text is None or args.text == "-"
    data: str | bytes = sys.stdin.buffer.read() if reads_stdin else args.text
    now = coerce_time(args.now, field="--now")
    report = Pipeline.default().analyze(
        data,
        channel=args.channel,
        sender=args.sender,
        received_at=coerce_time(args.received_at, field="--received-at"),
        context=read_context(args.context),
        now=now,
        lang=args.lang,
    )
    if args.json:
        print(report.model_dump_json())
    else:
        print(render_card(report, now=now))
    return 0
