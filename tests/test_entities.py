"""Direct tests of entity extraction (icp_notify.entities): domains, Chinese (IDN) domains, and
the cheap gates in front of the patterns, which change no result."""

from __future__ import annotations

import pytest
import regex
from _helpers import corpus_texts
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_notify import entities, providers
from icp_notify.entities import extract, extract_recipient
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


# --------------------------------------------------------------------------- the cheap gates
# extract skips a pattern when a substring test shows it cannot match, and runs the provider
# pattern with only the aliases that can occur in the text: extraction with and without the gates
# on the corpus and on tricky strings (case folding outside ASCII, look-alike digits, aliases
# split by spaces).


def _extract_all(texts: list[str]) -> list[object]:
    return [(extract(t), extract(t, spans=False), extract_recipient(t)) for t in texts]


_TRICKY = [
    "ALIYUN aliyun AliYun aLiYuN 阿里雲 阿里云计算 万网站 万网",
    "Tencent  Cloud tencent\tcloud TencentCloud tencent\u3000cloud Tencent\nCloud tencentcloudx",
    "\u017f \u212a \u0130 \u0131 \u00df \u1e9e \ufb01 \ufb00 \ufb06: DNSPod DN\u017fPod ALIYUN AL\u0130YUN aliyun‐x UCloud优刻得 青云QingCloud 青云直播",
    "west.cn WEST.CN 22.cn xwest.cn 新网站 新网数码 新網 景安全 郑州景安 35互联 三五互联",
    "Dear 张三, DEAR user: dEaR 李四! Ďear x, Deaŗ y, 尊敬的用户张** 亲爱的会员 你好 王五, 您好",
    "京ICP备2024012345号-3 粤icp证12345678号 蜀ICP备1234567号-0 京公网安备11010502000001号",
    "京B2-20201234 沪A1.B2-12345678 京b2-20201234 京B2 -20201234 京A2、B1-1234567",
    "1.2.3.4 10.0.0.256 1.2.3 ::1 fe80::1 1:2:3:4:5:6:7:8 a:b 12:30 时间 09:41:07",
    "2025-03-01 2025/3/1 2025.03.01 1999-12-31 23:59 2025-3/1 2025年3月1日 3月1日 12月31日 10点30",
    "24小时内 3天 两周内 半个月 十五个工作日 1.5小时 100秒 三个星期 5分钟 七个自然日 ٣天",
    "13800138000 +86 138-0013-8000 155****6357 010-12345678 400-800-1234 4008001234 95588 800-123-4567",
    "验证码:123456 code is AB12CD 校验码 abcd verification code: 9999 CODE 1234",
    "https://beian.miit.gov.cn/x www.Example.COM ftp://1.2.3.4/a http://例子.中国/ xn--fiqs8s.xn--55qx5d",
    "域名example.cn和例子.中国 及demo-site.com.cn 与 a.jpg index.html 公司.公司 我爱你.我爱你",
    "１３８００１３８０００ ２０２５－０３－０１ ＩＣＰ 阿里云 Ａｌｉｙｕｎ",
]


def test_gates_change_no_entity_on_the_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [normalize_text(t) for t in corpus_texts()] + _TRICKY
    gated = _extract_all(texts)
    monkeypatch.setattr(entities, "_GATES", {})
    monkeypatch.setattr(entities, "provider_gate", lambda text: providers._provider_pattern())
    monkeypatch.setattr(entities, "_may_address", lambda head: True)
    assert _extract_all(texts) == gated


_PIECES = st.sampled_from(
    [w for t in _TRICKY for w in regex.split(r"(\s+)", t)]
    + list("\u017f\u212a\u0130\u0131\u00df\u1e9e\ufb01\ufb00\ufb06.-/:：年月日号天时周秒*＊")
    + ["Aliyun", "ALI", "YUN", "Tencent", " ", "Cloud", "dear", "DEAR", "尊敬的", "您好", "\n"]
)

_TEXTS = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TEXTS, min_size=1, max_size=4))
def test_gates_change_no_entity_on_random_text(texts: list[str]) -> None:
    gated = _extract_all(texts)
    gates = entities._GATES
    gate, address = entities.provider_gate, entities._may_address
    try:
        entities._GATES = {}
        entities.provider_gate = lambda text: providers._provider_pattern()
        entities._may_address = lambda head: True
        assert _extract_all(texts) == gated
    finally:
        entities._GATES = gates
        entities.provider_gate = gate
        entities._may_address = address


def test_the_domain_memo_is_exact() -> None:
    for i in range(1100):  # more domains than the memo holds
        name = f"site{i}.cn"
        assert entities._domain_forms(name) == entities._domain_forms.__wrapped__(name)
    assert entities._domain("XN--FIQS8S.") == entities._domain("xn--fiqs8s")
    assert entities._domain("例子.中国") == entities._domain("xn--fsqu00a.xn--fiqs8s")
    assert entities._domain("a..b") is None
