"""The one tokenizer: placeholders, private jieba state, bundled dictionary."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import jieba
import pytest

from icp_notify import tokenize as tk
from icp_notify.errors import DataFileError
from icp_notify.tokenize import tokenize


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        ("备案号京ICP备2024012345号-3已注销", "⟨ICP⟩"),
        ("沪ICP备12345678号", "⟨ICP⟩"),
        ("京公网安备11010502000001号", "⟨GA⟩"),
        ("许可证京B2-20201234", "⟨LIC⟩"),
        ("请访问 https://beian.example-cloud.com/a?b=1 查看", "⟨URL⟩"),
        ("网站 shop.example-demo.cn 已接入", "⟨DOMAIN⟩"),
        ("服务器 203.0.113.7 已变更", "⟨IP⟩"),
        ("IPv6 2001:db8::1 已变更", "⟨IP⟩"),
        ("联系 155****6357", "⟨PHONE⟩"),
        ("客服 400-123-4567", "⟨PHONE⟩"),
        ("于2025年3月1日提交", "⟨DATE⟩"),
        ("于 2025-03-01 提交", "⟨DATE⟩"),
        ("09:12:00 收到", "⟨TIME⟩"),
        ("验证码：483920，请勿泄露", "⟨CODE⟩"),
        ("邮件 ops@example-demo.com", "⟨EMAIL⟩"),
        ("24小时内有效", "⟨NUM⟩"),
    ],
)
def test_entities_become_single_placeholder_tokens(text: str, placeholder: str) -> None:
    tokens = tokenize(text)
    assert placeholder in tokens
    # the entity's own characters are gone
    assert not any(ch.isdigit() for tok in tokens for ch in tok)


def test_words_around_an_icp_number_are_kept() -> None:
    tokens = tokenize("您的网站京ICP备2024012345号-3已取消接入")
    assert tokens[:4] == ["您", "的", "网站", "⟨ICP⟩"]
    assert "取消接入" in tokens


def test_filing_vocabulary_stays_whole() -> None:
    tokens = tokenize("您的接入备案已通过管局审核，原接入商将取消接入")
    for word in ("接入备案", "管局审核", "接入商", "取消接入"):
        assert word in tokens


def test_normalisation_and_no_whitespace_tokens() -> None:
    assert tokenize("ＩＣＰ  备案\n\t通过") == tokenize("icp 备案 通过")
    assert all(t.strip() for t in tokenize("a  b \n c"))


def test_deterministic_and_bounded() -> None:
    text = "尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。"
    assert tokenize(text) == tokenize(text)
    long = "备案" * (tk.MAX_CHARS)  # twice MAX_CHARS characters
    assert len("".join(tokenize(long))) == tk.MAX_CHARS


def test_regex_timeout_falls_back_to_plain_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    class Slow:
        def finditer(self, *_a: object, **_k: object) -> object:
            raise TimeoutError("regex timed out")

    monkeypatch.setattr(tk, "_ENTITY_RE", Slow())
    tokens = tokenize("网站 shop.example-demo.cn 已取消接入")
    assert "⟨DOMAIN⟩" not in tokens
    assert "取消接入" in tokens


def test_global_jieba_untouched_and_no_cache_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before_state = (jieba.dt.initialized, len(jieba.dt.FREQ), jieba.dt.total)
    tk._tokenizer.cache_clear()
    try:
        tokens = tokenize("您的备案信息已被变更")
    finally:
        tk._tokenizer.cache_clear()
    assert tokens
    assert (jieba.dt.initialized, len(jieba.dt.FREQ), jieba.dt.total) == before_state
    assert os.listdir(tmp_path) == []  # no jieba.*.cache written to the temp dir


def test_private_tokenizer_uses_bundled_dictionary() -> None:
    tok = tk._tokenizer()
    assert tok is not jieba.dt
    assert tok.initialized
    assert "取消接入" in tok.FREQ
    assert len(tok.FREQ) < 200_000  # not jieba's 349k-word default dictionary


def test_settings_record_dictionary_hash() -> None:
    s = tk.settings()
    assert s["dictionary_sha256"] == tk.dictionary_sha256()
    assert s["hmm"] is False
    assert set(s["placeholders"]) == set(tk.PLACEHOLDERS)


def test_bad_dictionary_line_is_a_data_file_error() -> None:
    with pytest.raises(DataFileError, match="line 2"):
        tk._parse_dictionary("备案 100 n\n坏行没有频率\n".encode(), "userdict.txt")
    with pytest.raises(DataFileError, match="no words"):
        tk._parse_dictionary(b"# only a comment\n", "userdict.txt")
