"""Direct tests of entity extraction (icp_notify.entities): domains, Chinese (IDN) domains."""

from __future__ import annotations

import pytest

from icp_notify.entities import extract
from icp_notify.normalize import normalize_text


def domains(text: str) -> list[tuple[str, str]]:
    ents, _ = extract(normalize_text(text))
    return [(d.name, d.ascii) for d in ents.domains]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the example: a Han label that itself ends with a lead word (域名)
        ("您的网站 中文域名.cn 已成功接入西部数码。", [("中文域名.cn", "xn--fiq06l2rdsvs.cn")]),
        ("您的网站中文域名.cn已成功接入西部数码。", [("中文域名.cn", "xn--fiq06l2rdsvs.cn")]),
        ("Your site 中文域名.cn is live at 示例云.", [("中文域名.cn", "xn--fiq06l2rdsvs.cn")]),
        (
            "域名：青山茶舍.中国 已完成接入备案",
            [("青山茶舍.中国", "xn--rht288fpzak20d.xn--fiqs8s")],
        ),
        (
            "网站 北京茶叶.公司 的变更备案已通过",
            [("北京茶叶.公司", "xn--1lq90iftaf08l.xn--55qx5d")],
        ),
        # punycode as written: Unicode name, the xn-- form kept as ascii (any case)
        ("您的网站xn--fiq06l2rdsvs.cn已取消接入", [("中文域名.cn", "xn--fiq06l2rdsvs.cn")]),
        ("site XN--FIQ06L2RDSVS.CN approved", [("中文域名.cn", "xn--fiq06l2rdsvs.cn")]),
        # a lead word inside the run still cuts the label where a label remains
        ("您的网站是茶.cn", [("茶.cn", "xn--cl1a.cn")]),
        # ASCII domains are their own ascii form
        ("您的网站 lvshan-tea.cn 已完成取消接入", [("lvshan-tea.cn", "lvshan-tea.cn")]),
    ],
)
def test_domains_unicode_and_punycode(text: str, expected: list[tuple[str, str]]) -> None:
    assert domains(text) == expected


def test_file_names_and_lone_lead_words_are_not_domains() -> None:
    assert domains("附件 readme.md 与 截图.png 已上传") == []
    assert domains("请核对您的域名.") == []
