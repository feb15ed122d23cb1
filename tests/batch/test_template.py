"""Digit templates (``batch/template.py``): a classification derived from a notice that differs
only in its ASCII digits equals the full pass — on every corpus and hold-out record with its
digits changed four ways (shifted, reversed, at random, and written as phone numbers, which
the digit-sensitive rules and the tokenizer tell apart), each mutant checked against every
template kept so far — and the labeller's rows are the same with the templates on and off."""

from __future__ import annotations

import random
from typing import Any

import pytest
import regex
from _helpers import corpus_records

from icp_notify.batch import Labeller
from icp_notify.batch.jsontext import dumps
from icp_notify.batch.template import DigitTemplates, digit_blind, masked_text
from icp_notify.classifier import Classifier
from icp_notify.models import Classification, Notice, RawMessage
from icp_notify.parse import parse
from icp_notify.rules import RuleSet, default_rules
from icp_notify.tokenize import digit_stable

_DIGIT_RUN = regex.compile(r"[0-9]+")
_PHONE = "13912345678" * 6


def _mutants(text: str, seed: int) -> list[str]:
    """``text`` with its ASCII digits changed: shifted, reversed, at random, phone-like."""
    rng = random.Random(seed)
    return [
        text.translate(str.maketrans("0123456789", "3456789012")),
        text.translate(str.maketrans("0123456789", "9876543210")),
        _DIGIT_RUN.sub(lambda m: "".join(rng.choice("0123456789") for _ in m.group(0)), text),
        _DIGIT_RUN.sub(lambda m: _PHONE[: len(m.group(0))], text),
    ]


def _notice(record: dict[str, Any], text: str) -> Notice:
    return parse(
        RawMessage(
            text=text,
            channel=record.get("channel") or "unknown",
            sender=record.get("sender"),
            subject=record.get("subject"),
            received_at=record.get("received_at"),
        )
    )


@pytest.mark.slow
def test_derived_classifications_equal_the_full_pass_on_the_whole_corpus() -> None:
    classifier = Classifier.default()
    templates = DigitTemplates(classifier, size=1 << 20)
    assert templates.enabled
    derived = keyed = stable = 0
    records = corpus_records()
    assert len(records) > 7000
    for n, record in enumerate(records):
        if masked_text(record["text"]) == record["text"]:
            continue
        for text in [record["text"], *_mutants(record["text"], n)]:
            notice = _notice(record, text)
            key = templates.key(notice)
            if key is None:
                continue
            keyed += 1
            expected = classifier.classify_notice(notice)
            got = templates.derive(key, notice)
            if got is None:
                templates.put(key, notice, expected)
                continue
            derived += 1
            stable += digit_stable(text)
            assert got == expected, text
            assert got.model_dump_json() == expected.model_dump_json(), text
            assert got.model_fields_set == expected.model_fields_set
    assert keyed > 12000
    assert derived > 9000  # the mutants and the corpus' own look-alikes were derived
    assert 5000 < stable < derived  # most without their tokens, the phone numbers' with them
    assert templates.hits == derived


def test_digit_blind_reads_each_pattern() -> None:
    blind = [
        r"核验码\s*[:：]?[a-z0-9]{4,8}(?![a-z0-9])",
        r"\p{Han}icp[备证]?\s*\d{6,12}",
        r"[^\n。]{0,30}\b\w+\D[\p{Han}a-z]",
        r"(?:https?://|www\.)[^\s，。]|[a-z0-9-]\.[a-z]{2,}+/[\w\-./?=&%#]",
        r"(?>[a-z0-9-]+)(?=\.cn)(?<!x)[!-~]",
        r"(?:\G|(?<![a-z0-9._%+-]))[a-z0-9._%+-]+@",  # \G: where the search began
    ]
    sensitive = [
        r"1[3-9]\d{9}",
        r"号-1(?!\d)",
        r"(\d)\1",
        r"(?P<a>\d)(?P=a)",
        "[0-5]",
        r"[^0]",
        r"\x31",
        r"(?:abc){e<=1}",
        r"\p{Nv=5}",
        r"(?(1)a|b)",
        r"\L<words>",
    ]
    assert all(digit_blind(regex.compile(p)) for p in blind)
    for p in sensitive:
        try:
            compiled = regex.compile(p)
        except regex.error:
            continue
        assert not digit_blind(compiled), p
    assert not digit_blind(regex.compile("a", regex.VERSION1))


def test_the_shipped_rules_split_into_blind_and_sensitive() -> None:
    rules = default_rules()
    sensitive = {
        rule.id
        for rule in rules.rules
        for p in (*rule.patterns, *rule.unless)
        if not digit_blind(p)
    }
    assert "miit.generic_change" in sensitive  # its phone-number patterns read digits
    assert "filing.verification_code" not in sensitive
    assert 0 < len(sensitive) < len(rules) // 2
    patterns = sum(len(rule.patterns) + len(rule.unless) for rule in rules.rules)
    assert 0 < len(DigitTemplates(Classifier.default())._sensitive) < patterns // 10


def test_what_takes_the_full_pass() -> None:
    templates = DigitTemplates(Classifier.default())
    code = "【工信部】您的短信核验码为123456，24小时内有效。"
    assert templates.key(parse("【工信部】您的备案信息已被变更。")) is None  # no digit
    assert templates.key(parse(code)) is not None
    with_subject = parse(RawMessage(text=code, subject="核验", channel="email"))
    assert templates.key(with_subject) is None
    signed = parse("【云2】您的短信核验码为123456，24小时内有效。")
    assert signed.signature == "云2"
    assert templates.key(signed) is None
    long = "核验码为123456" + "x" * 70000
    assert templates.key(Notice(raw_text=long, text=long)) is None
    rules_only = DigitTemplates(Classifier(default_rules(), None))
    assert not rules_only.enabled
    assert rules_only.key(parse(code)) is None
    assert not DigitTemplates(object()).enabled

    class Other(Classifier):
        pass

    plain = Classifier.default()
    assert not DigitTemplates(Other(plain.rules, plain.model)).enabled


def test_a_phone_number_is_not_a_code() -> None:
    classifier = Classifier.default()
    templates = DigitTemplates(classifier)
    a = parse("您的备案信息已被变更，请致电接入服务商 021-12345678 核实。")
    b = parse("您的备案信息已被变更，请致电接入服务商 921-12345678 核实。")
    key = templates.key(a)
    assert key is not None
    assert key == templates.key(b)
    assert templates.derive(key, a) is None
    templates.put(key, a, classifier.classify_notice(a))
    assert templates.derive(key, b) is None  # a phone number for the rules, not a number
    templates.put(key, b, classifier.classify_notice(b))
    c = parse("您的备案信息已被变更，请致电接入服务商 027-87654321 核实。")
    assert templates.derive(key, c) == classifier.classify_notice(c)
    assert templates.hits == 1


def _code_sms(*codes: str) -> list[Notice]:
    """The MIIT verification-code SMS with each of ``codes``, parsed."""
    return [parse(f"【工信部】您的短信核验码为{code}，24小时内有效。") for code in codes]


def _first_code_sms() -> tuple[Classifier, DigitTemplates, tuple[Any, ...], Notice, Classification]:
    """Templates, the key of the code SMS with 123456, that notice and its classification."""
    classifier = Classifier.default()
    templates = DigitTemplates(classifier)
    (a,) = _code_sms("123456")
    key = templates.key(a)
    assert key is not None
    return classifier, templates, key, a, classifier.classify_notice(a)


def test_evidence_matched_is_read_from_the_notice() -> None:
    classifier, templates, key, a, first = _first_code_sms()
    (b,) = _code_sms("654321")
    templates.put(key, a, first, "TEXT")
    got = templates.derive_text(key, b)
    assert got is not None
    assert got[1] is None  # "TEXT" is not a classification's text: the caller dumps it
    assert [e.matched for e in got[0].evidence if e.matched] == ["核验码为654321"]
    assert got[0] == classifier.classify_notice(b)
    same = templates.derive_text(key, a)
    assert same == (first, "TEXT")  # nothing to re-read: the template's own text


def test_the_json_text_is_spliced() -> None:
    classifier, templates, key, a, first = _first_code_sms()
    templates.put(key, a, first, dumps(first.model_dump(mode="json")))
    for code in ("654321", "000000", "999999"):
        (b,) = _code_sms(code)
        got = templates.derive_text(key, b)
        assert got is not None
        assert got[1] == dumps(classifier.classify_notice(b).model_dump(mode="json"))


def test_evidence_not_from_the_text_falls_back() -> None:
    _, templates, key, a, first = _first_code_sms()
    (b,) = _code_sms("654321")
    odd = first.model_copy(
        update={"evidence": tuple(e.model_copy(update={"matched": "x"}) for e in first.evidence)}
    )
    templates.put(key, a, odd)
    assert templates.derive(key, b) is None


def test_rules_with_a_sender_pattern_keep_the_sender_in_the_key() -> None:
    rules = default_rules()
    spec = rules["filing.verification_code"].spec.model_copy(update={"senders": ("106901[0-9]+",)})
    data = {"rule": [spec.model_dump(mode="json")]}
    custom = Classifier(RuleSet.from_dict(data), Classifier.default().model)
    templates = DigitTemplates(custom)
    a = parse(RawMessage(text="您的短信核验码为123456", sender="10690100000"))
    b = parse(RawMessage(text="您的短信核验码为123456", sender="10690200000"))
    assert DigitTemplates(Classifier.default()).key(a) == DigitTemplates(Classifier.default()).key(
        b
    )
    assert templates.key(a) != templates.key(b)


def _lines(labeller: Labeller, messages: list[RawMessage]) -> list[str]:
    out = []
    for seq, msg in enumerate(messages):
        line = labeller.label_line(seq, msg)
        out.append(line if isinstance(line, dict) else line.json)  # type: ignore[arg-type]
    return out


def test_labelled_rows_are_the_same_with_and_without_templates() -> None:
    records = [r for r in corpus_records() if masked_text(r["text"]) != r["text"]][:150]
    messages = []
    for n, record in enumerate(records):
        for text in [record["text"], *_mutants(record["text"], n)]:
            messages.append(
                RawMessage(
                    text=text,
                    channel=record.get("channel") or "unknown",
                    sender=record.get("sender"),
                    subject=record.get("subject"),
                    received_at=record.get("received_at"),
                )
            )
    with_templates = Labeller(now="2025-03-06T12:00:00")
    without = Labeller(now="2025-03-06T12:00:00")
    assert with_templates._templates is not None
    without._templates = None
    assert _lines(with_templates, messages) == _lines(without, messages)
    assert with_templates._templates.hits > 100
    assert with_templates.cache_hits == without.cache_hits


def test_each_digit_sensitive_pattern_is_searched_once_behind_its_gates() -> None:
    from icp_notify.batch.template import _gate_holds
    from icp_notify.gates import lowered, pattern_gates

    rules = default_rules()
    sensitive = DigitTemplates(Classifier.default())._sensitive
    wanted = {
        (p.pattern, p.flags, None if rule.bounded else rule.timeout)
        for rule in rules.rules
        for p in (*rule.patterns, *rule.unless)
        if not digit_blind(p)
    }
    searched = [(p.pattern, p.flags, timeout) for p, _, timeout in sensitive]
    assert len(searched) == len(set(searched))
    assert set(searched) == wanted
    texts = [r["text"] for r in corpus_records()]
    texts += ["", "信息", "备案信息 拨打 400", "主体备案号", "\u0130 信息"]
    for pattern, gate, _ in sensitive:
        original = pattern_gates(pattern.pattern)
        assert [frozenset(option) for option in gate] == list(original)
        for text in texts:
            low = lowered(text)
            if low is None:
                continue
            holds = all(any(string in low for string in option) for option in original)
            assert _gate_holds(low, gate) is holds, (pattern.pattern, text)
            if not holds:
                assert pattern.search(text) is None


def test_masked_text_is_the_translation_of_every_digit() -> None:
    table = str.maketrans("123456789", "000000000")
    texts = [r["text"] for r in corpus_records()]
    texts += [
        "",
        "0",
        "9",
        "１２３",
        "٣",
        "a1b2\ud800c3",
        "核验码为123456，24小时",
        "\U0001f600 42",
    ]
    for text in texts:
        assert masked_text(text) == text.translate(table), text


def test_only_the_shipped_tokenizer_skips_the_tokens_of_digit_stable_texts() -> None:
    default = Classifier.default()
    assert DigitTemplates(default)._stable is digit_stable
    a, b = (parse(f"【某云】您的备案订单 BA{n} 已通过初审。") for n in ("1234567890", "9876543210"))
    templates = DigitTemplates(default)
    key = templates.key(a)
    templates.put(key, a, default.classify_notice(a))
    assert templates.derive(key, b) == default.classify_notice(b)
    assert templates._cache.get(key)[0].parts[0] == ("\x00digit-stable",)

    seen: list[str] = []

    def own(text: str) -> list[str]:  # another tokenizer: its tokens are computed and compared
        seen.append(text)
        return list(text.translate(str.maketrans("0123456789", "0000000000")))

    custom = Classifier(rules=default.rules, model=default.model, tokenizer=own)
    templates = DigitTemplates(custom)
    assert templates._stable is None
    templates.put(key, a, custom.classify_notice(a))
    seen.clear()
    assert templates.derive(key, b) is not None
    assert seen == [b.text, a.text]
