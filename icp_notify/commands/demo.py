"""``icp-notify demo``: analyze the built-in example notices and print their cards.

The examples live in :mod:`icp_notify.examples` (imported when the command runs, so building the
command line stays light). They carry fixed receive times and the demo uses a fixed "now", so the
output is the same on every run. ``--json`` prints one ``Report`` JSON per line instead.
"""

from __future__ import annotations

import argparse
from collections import Counter

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``icp-notify demo``."""
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the advice")
    parser.add_argument("--json", action="store_true", help="print one Report JSON per line")


def run(args: argparse.Namespace) -> int:
    """Print a card for every example, then a summary line."""
    from icp_notify.commands.analyze import field_lines, render_card
    from icp_notify.examples import DEMO_NOW, matches, run_examples
    from icp_notify.models import URGENCY_ORDER

    results = run_examples(lang=args.lang)
    if args.json:
        for _ex, report in results:
            print(report.model_dump_json())
        return 0
    zh = args.lang == "zh"
    now_text = DEMO_NOW.strftime("%Y-%m-%d %H:%M")
    intro = (
        f"icp-notify 演示：{len(results)} 条示例通知，“现在”固定为 {now_text}（Asia/Shanghai）。"
        if zh
        else f"icp-notify demo: {len(results)} example notices, 'now' fixed at {now_text} Asia/Shanghai."
    )
    print(intro)
    print()
    ok = 0
    for i, (ex, report) in enumerate(results, 1):
        agree = matches(ex, report)
        ok += agree
        title = f"{i}/{len(results)} {ex.title.get(args.lang, ex.id)}"
        print(render_card(report, title=title, now=DEMO_NOW))
        expected = (
            "ambiguous" if ex.expect.ambiguous else f"{ex.expect.situation} / {ex.expect.kind}"
        )
        label = "示例标注" if zh else "labelled"
        verdict = "✓" if agree else ("✗ 与分类结果不一致" if zh else "✗ the classifier disagrees")
        print("\n".join(field_lines(label, f"{expected}  {verdict}")))
        print()
    counts = Counter(r.advice.urgency for _e, r in results)
    ambiguous = sum(r.classification.ambiguous for _e, r in results)
    parts = ", ".join(f"{counts.get(u, 0)} {u.value}" for u in URGENCY_ORDER)
    if zh:
        print(
            f"共 {len(results)} 条：{parts}；{ambiguous} 条无法确定；"
            f"{ok}/{len(results)} 条与示例标注一致。"
        )
    else:
        print(
            f"{len(results)} notices: {parts}; {ambiguous} ambiguous; "
            f"{ok}/{len(results)} classified as labelled."
        )
    return 0
