"""The plain-text reader (icp_notify.readers.text): one notice per line or per blank-line block."""

from __future__ import annotations

from _helpers import ARCHIVES, messages

from icp_notify.readers.text import read_text


def test_text_one_per_line_and_blank_split() -> None:
    lines = list(read_text(ARCHIVES / "notices.txt"))
    assert [m.source.line for m in messages(lines) if m.source] == [1, 2, 4]
    blank = messages(list(read_text(ARCHIVES / "notices_blank.txt", split="blank")))
    assert len(blank) == 3
    assert blank[1].text == "【示例云】尊敬的用户：\n您的网站 example-shop.cn 已完成取消接入。"
