"""Cutting never imports jieba: the same block pattern and prefix dictionary as the private
jieba tokenizer the tests compare the cut with."""

from __future__ import annotations

import subprocess
import sys

import jieba

from icp_notify import tokenize as tk


def test_block_pattern_is_jiebas() -> None:
    assert tk._RE_HAN.pattern == jieba.re_han_default.pattern
    assert tk._RE_HAN.flags == jieba.re_han_default.flags


def test_prefix_dictionary_is_the_private_tokenizers() -> None:
    freq, total = tk._dictionary()
    tok = tk._tokenizer()
    assert freq == tok.FREQ
    assert total == tok.total


def test_classifying_does_not_import_jieba() -> None:
    code = (
        "import sys, icp_notify\n"
        "c = icp_notify.classify('【阿里云】您的网站 lvshan-tea.cn 已完成取消接入。')\n"
        "assert c.situation is not None\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'jieba'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
