"""The cheap gates in front of the entity patterns change no result.

``icp_notify.entities`` skips a pattern when a substring test shows it cannot match, and runs the
provider pattern with only the aliases that can occur in the text. These tests run extraction
with and without the gates on the corpus and on tricky strings (case folding outside ASCII,
look-alike digits, aliases split by spaces), and check the premise of the provider gate against
the ``regex`` module's own case tables.
"""

from __future__ import annotations

import itertools
import string

import pytest
import regex
from _helpers import corpus_texts
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_notify import entities, providers
from icp_notify.entities import extract, extract_recipient
from icp_notify.normalize import normalize_text

_FLAGS = regex.IGNORECASE | regex.VERSION1


@pytest.fixture(scope="module")
def plain_non_ascii() -> str:
    """Every non-ASCII code point that :func:`providers.is_plain` accepts."""
    return "".join(
        chr(c)
        for c in range(0x80, 0x110000)
        if not 0xD800 <= c < 0xE000 and providers.is_plain(chr(c))
    )


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


def test_plain_characters_fold_to_no_ascii(plain_non_ascii: str) -> None:
    """The premise of the provider and "Dear" gates, checked on the regex module's tables.

    Under IGNORECASE | VERSION1 (full case folding) no plain non-ASCII character matches an
    ASCII character or a run of two or three ASCII letters (ß ~ "ss", ﬃ ~ "ffi" are not plain),
    an ASCII character matches only itself in the other case, and the non-ASCII characters of
    the aliases are plain and match only themselves among plain characters.
    """
    for a in string.printable:
        assert regex.search(regex.escape(a), plain_non_ascii, _FLAGS) is None, a
    pieces = [p for a in providers.provider_table().aliases for p in a.lower().split()] + ["dear"]
    runs = {m for p in pieces for m in regex.findall(r"[a-z0-9.]+", p)}
    letter_pairs = {a + b for a, b in itertools.product(string.ascii_lowercase, repeat=2)}
    pairs = letter_pairs | {r[i : i + 2] for r in runs for i in range(len(r) - 1)}
    triples = {r[i : i + 3] for r in runs for i in range(len(r) - 2)}
    for seqs in (pairs, triples):
        pattern = "|".join(sorted(regex.escape(q) for q in seqs))
        assert regex.search(pattern, plain_non_ascii, _FLAGS) is None
    for a in map(chr, range(128)):
        for b in map(chr, range(128)):
            folds = regex.fullmatch(regex.escape(a), b, _FLAGS) is not None
            assert folds == (a.lower() == b.lower()), (a, b)
    for alias in providers.provider_table().aliases:
        for ch in alias:
            if not ch.isascii():
                assert providers.is_plain(ch)
                assert [m.group() for m in regex.finditer(ch, plain_non_ascii, _FLAGS)] == [ch]
    for ch in "尊敬的亲爱您你好":
        assert providers.is_plain(ch)


def test_not_plain_characters_that_fold_to_ascii() -> None:
    for (
        ch
    ) in "\u017f\u212a\u0130\u0131\u00df\u1e9e\ufb01\ufb00\ufb06\u00b5\u00aa\u00ba\uff21\uff41":
        assert not providers.is_plain(ch)
    assert providers.is_plain("【阿里云】您好,“example.cn”—已接入 → ✅ 👍 ·")


def test_provider_gate_keeps_the_pattern_order() -> None:
    gate = providers.provider_gate("阿里云计算 阿里云 aliyun")
    assert gate is not None
    aliases, parts = providers._provider_parts()
    order = [aliases.index(a) for a in ("阿里云计算", "阿里云", "Aliyun")]
    assert gate.pattern == "|".join(parts[i] for i in sorted(order))
    assert providers.provider_gate("您的网站已接入") is None
    assert providers.provider_gate("ſ") is providers._provider_pattern()


def test_memos_are_bounded() -> None:
    assert providers._provider_subpattern.cache_info().maxsize == 256
    assert entities._domain_forms.cache_info().maxsize == 1024
    for i in range(1100):
        entities._domain(f"site{i}.cn")
    assert entities._domain_forms.cache_info().currsize <= 1024
    assert entities._domain("XN--FIQS8S.") == entities._domain("xn--fiqs8s")
    assert entities._domain("例子.中国") is not None
    assert entities._domain("a..b") is None


def test_alias_in_signature_memo_is_bounded_and_exact() -> None:
    memo = providers._alias_inside_memo
    assert memo.cache_info().maxsize == 1024
    for sig in ("阿里云备案", "ALIYUN", "某某科技", "x" * 65 + "腾讯云", "腾讯云计算中心"):
        assert providers.provider_in_signature(sig) == providers._alias_inside(sig.lower())
