"""``advisor._fill``'s Chinese spacing rule, as two regex passes, equals the rule written out
as replacements (runs of spaces become one; a space before a closing or after an opening mark
goes), on every short string over spaces, marks and text."""

from __future__ import annotations

import itertools

from icp_notify.advisor import Advisor

CLOSING = "，。：；、）！？”》"
OPENING = "（“《"


def _by_replacement(text: str) -> str:
    while "  " in text:
        text = text.replace("  ", " ")
    for mark in CLOSING:
        text = text.replace(" " + mark, mark)
    for mark in OPENING:
        text = text.replace(mark + " ", mark)
    return text.strip()


def test_fill_spacing_equals_the_replacement_rule() -> None:
    from icp_notify import advisor

    alphabet = [" ", "，", "）", "（", "《", "备", "a"]
    checked = 0
    for n in range(7):
        for chars in itertools.product(alphabet, repeat=n):
            text = "".join(chars)
            assert advisor._fill(text, {}, "zh") == _by_replacement(text), repr(text)
            checked += 1
    assert checked == sum(7**n for n in range(7))
    filled = advisor._fill("确认{number}：", {"number": "备案号 京ICP备12345678号 "}, "zh")
    assert filled == "确认备案号 京ICP备12345678号："


def test_every_shipped_text_fills_the_same_way() -> None:
    from icp_notify import advisor

    data = Advisor.default()._data
    values = {
        "provider": "示例云 ",
        "domain": " 域名 site1-example.cn ",
        "number": "备案号 京ICP备12345678号 ",
        "reachable_after": "2025-03-05 02:30（北京时间） ",
        "deadline": " 2025-03-05 23:59（北京时间）",
    }
    for entry in data.entry.values():
        texts = entry.zh
        for template in (texts.summary, texts.why, *texts.steps):
            expected = _by_replacement(template.format_map(values))
            assert advisor._fill(template, values, "zh") == expected
