"""Batch labelling: label(), the caches, workers, the CLI (resume, Ctrl-C), pandas and Dask.

A keyword fake stands in for the classifier (it counts its calls); parsing and advice are real.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from _helpers import context_messages

from icp_notify import batch as batch_mod
from icp_notify.batch import Labeller, Summary, label, label_frame
from icp_notify.cli import main
from icp_notify.models import (
    CHANGE_SITUATIONS,
    Classification,
    Context,
    Kind,
    Notice,
    RawMessage,
    Report,
    Situation,
)
from icp_notify.pipeline import Pipeline

ARCHIVES = Path(__file__).parent.parent / "fixtures" / "archives"


class KeywordClassifier:
    """Decides 取消接入 and marketing, leaves the generic notice ambiguous; counts calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.with_context = 0

    def classify_notice(self, notice: Notice, context: Context | None = None) -> Classification:
        self.calls += 1
        if context is not None:
            self.with_context += 1
        if "取消接入" in notice.text:
            situation, kind = Situation.ACCESS_CANCELLED, Kind.PROVIDER_ACCESS_CANCELLED
        elif "已被变更" in notice.text:
            if context is not None and context.operations:
                situation, kind = Situation.ACCESS_DOMAIN, Kind.CHANGE_NOTICE_GENERIC
            else:
                return Classification(
                    situation=None,
                    ambiguous=True,
                    candidates=CHANGE_SITUATIONS,
                    confidence=0.25,
                    probabilities=dict.fromkeys(CHANGE_SITUATIONS, 0.25),
                    kind=Kind.CHANGE_NOTICE_GENERIC,
                )
        elif "审核通过" in notice.text:
            situation, kind = Situation.NEW_DOMAIN, Kind.PROVIDER_NEW_DOMAIN
        else:
            situation, kind = Situation.OTHER, Kind.UNRELATED
        return Classification(
            situation=situation,
            ambiguous=False,
            candidates=(situation,),
            confidence=0.9,
            probabilities={situation: 0.9},
            kind=kind,
        )


@pytest.fixture
def fake() -> tuple[Pipeline, KeywordClassifier]:
    classifier = KeywordClassifier()
    return Pipeline(classifier), classifier


@pytest.fixture
def default_is_fake(
    monkeypatch: pytest.MonkeyPatch, fake: tuple[Pipeline, KeywordClassifier]
) -> KeywordClassifier:
    monkeypatch.setattr(Pipeline, "default", classmethod(lambda cls: fake[0]))
    return fake[1]


def report_of(row: dict[str, Any]) -> Report:
    return Report.model_validate(
        {k: row[k] for k in ("notice", "classification", "advice", "version")}
    )


def test_label_every_fixture_counts_add_up(fake: tuple[Pipeline, KeywordClassifier]) -> None:
    summary = Summary()
    rows = list(label([ARCHIVES], pipeline=fake[0], summary=summary, now="2025-03-06T12:00:00"))
    assert summary.consistent
    assert summary.read == len(rows) + summary.duplicates
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    codes = sorted(r["error"]["code"] for r in rows if "error" in r)
    assert codes == [
        "bad_row",
        "invalid_json",
        "undecodable",
        "xml_forbidden",
        "xml_forbidden",
        "xml_truncated",
    ]
    assert summary.errors == {c: codes.count(c) for c in set(codes)}
    labelled = [r for r in rows if "error" not in r]
    assert len(labelled) == summary.labelled
    assert summary.situations["access_cancelled"] >= 6
    assert summary.urgencies["critical"] >= summary.situations["access_cancelled"]
    assert summary.duplicates >= 2  # the two CSV exports hold the same messages
    for row in labelled:
        assert row["source"]["file"].startswith(str(ARCHIVES))
        report_of(row)  # every labelled row is a valid Report


def test_rows_equal_the_pipeline_report_even_from_the_cache(
    fake: tuple[Pipeline, KeywordClassifier],
) -> None:
    pipeline, classifier = fake
    text = "【示例云】尊敬的用户，您的网站 example-shop.cn 已完成取消接入，请尽快办理接入备案。"
    msgs = [
        RawMessage(text=text, sender="10690000123", received_at=f"2025-03-0{d}T10:00:00")
        for d in (1, 2, 3)
    ]
    rows = list(label(msgs, pipeline=pipeline, now="2025-03-04T00:00:00"))
    assert classifier.calls == 1  # one classification for three arrivals of the same text
    from icp_notify.parse import parse

    for msg, row in zip(msgs, rows, strict=True):
        expected = pipeline.analyze_notice(parse(msg), now="2025-03-04T00:00:00").model_dump(
            mode="json"
        )
        assert {k: row[k] for k in expected} == expected


def test_context_rows_are_never_served_from_the_cache(
    fake: tuple[Pipeline, KeywordClassifier],
) -> None:
    pipeline, classifier = fake
    msgs = context_messages()
    rows = list(label(msgs, pipeline=pipeline))
    assert [r["classification"]["situation"] for r in rows] == [None, "access_domain", None]
    assert classifier.with_context == 1
    assert classifier.calls == 2


def test_classification_key_covers_what_rules_read() -> None:
    base = Notice(raw_text="x", text="您的网站已完成取消接入")
    assert Labeller.classification_key(base) != Labeller.classification_key(
        base.model_copy(update={"sender": "12381"})
    )
    assert Labeller.classification_key(base) != Labeller.classification_key(
        base.model_copy(update={"channel": "sms"})
    )


def test_duplicates_across_backups_are_reported_once(
    tmp_path: Path, fake: tuple[Pipeline, KeywordClassifier]
) -> None:
    shutil.copy(ARCHIVES / "sms_backup.xml", tmp_path / "backup-1.xml")
    shutil.copy(ARCHIVES / "sms_backup.xml", tmp_path / "backup-2.xml")
    summary = Summary()
    rows = list(label([tmp_path], pipeline=fake[0], summary=summary))
    assert len(rows) == 3
    assert summary.duplicates == 3
    assert summary.read == 6
    assert summary.consistent


def test_workers_give_the_same_rows_in_order(fake: tuple[Pipeline, KeywordClassifier]) -> None:
    one = list(label([ARCHIVES], pipeline=fake[0], now="2025-03-06T12:00:00"))
    summary = Summary()
    two = list(
        label([ARCHIVES], pipeline=fake[0], now="2025-03-06T12:00:00", workers=2, summary=summary)
    )
    assert two == one
    assert summary.consistent


def test_bad_lang_and_now_are_input_errors(fake: tuple[Pipeline, KeywordClassifier]) -> None:
    from icp_notify.errors import InputError

    with pytest.raises(InputError):
        list(label([ARCHIVES], pipeline=fake[0], lang="fr"))
    with pytest.raises(InputError):
        list(label([ARCHIVES], pipeline=fake[0], now="yesterday"))


# --------------------------------------------------------------------------- CLI


def test_cli_jsonl_and_summary(
    tmp_path: Path, default_is_fake: KeywordClassifier, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    status = main(
        [
            "batch",
            str(ARCHIVES / "sms_backup.xml"),
            str(ARCHIVES / "bad_columns.csv"),
            "-o",
            str(out),
        ]
    )
    assert status == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5  # the CSV's first row is the backup's first SMS again
    err = capsys.readouterr().err
    assert "read 6: labelled 4, errors 1, duplicates 1" in err
    assert "bad_row 1" in err
    assert str(out) in err


def test_cli_csv_output(tmp_path: Path, default_is_fake: KeywordClassifier) -> None:
    import csv

    out = tmp_path / "out.csv"
    assert main(["batch", str(ARCHIVES / "notices.txt"), "-o", str(out), "--lang", "en"]) == 0
    with open(out, encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [r["situation"] for r in table] == ["", "access_cancelled", "new_domain"]
    assert table[0]["ambiguous"] == "True"
    assert table[0]["candidates"].count("|") == 3


def test_cli_unopenable_input_is_non_zero(
    tmp_path: Path, default_is_fake: KeywordClassifier, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    status = main(
        ["batch", str(tmp_path / "missing.mbox"), str(ARCHIVES / "notices.txt"), "-o", str(out)]
    )
    assert status == 1
    assert (
        len(out.read_text(encoding="utf-8").splitlines()) == 4
    )  # the other input is still labelled
    assert "could not be opened" in capsys.readouterr().err


def test_cli_ctrl_c_leaves_valid_output_and_resume_finishes(
    tmp_path: Path,
    default_is_fake: KeywordClassifier,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    full = tmp_path / "full.jsonl"
    assert main(["batch", str(ARCHIVES), "-o", str(full), "--now", "2025-03-06T12:00:00"]) == 0
    expected = full.read_text(encoding="utf-8").splitlines()

    original = Labeller.label_message
    calls = {"n": 0}

    def interrupting(self: Labeller, seq: int, msg: RawMessage) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return original(self, seq, msg)

    monkeypatch.setattr(Labeller, "label_message", interrupting)
    out = tmp_path / "out.jsonl"
    assert main(["batch", str(ARCHIVES), "-o", str(out), "--now", "2025-03-06T12:00:00"]) == 130
    partial = out.read_text(encoding="utf-8").splitlines()
    assert 0 < len(partial) < len(expected)
    assert partial == expected[: len(partial)]  # every line complete and valid
    assert "--resume" in capsys.readouterr().err

    monkeypatch.setattr(Labeller, "label_message", original)
    with open(out, "a", encoding="utf-8") as fh:
        fh.write('{"seq": 99, "torn')  # a run killed mid-write
    assert (
        main(["batch", str(ARCHIVES), "-o", str(out), "--resume", "--now", "2025-03-06T12:00:00"])
        == 0
    )
    assert out.read_text(encoding="utf-8").splitlines() == expected


def test_cli_progress_is_silent_when_not_a_terminal(
    tmp_path: Path, default_is_fake: KeywordClassifier, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["batch", str(ARCHIVES / "notices.txt")]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 3
    assert "\r" not in captured.err


# --------------------------------------------------------------------------- DataFrames


def test_label_frame(fake: tuple[Pipeline, KeywordClassifier]) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "body": [
                "【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
                "【示例云】您的网站 example-shop.cn 已完成取消接入。",
                "   ",
            ],
            "sender": ["12381", "10690000123", None],
        }
    )
    out = label_frame(df, text_col="body", pipeline=fake[0])
    assert list(out.columns) == ["body", "sender", *batch_mod.FRAME_COLUMNS]
    assert out["situation"].tolist()[:2] == [None, "access_cancelled"]
    assert out["ambiguous"].tolist()[:2] == [True, False]
    assert len(out["candidates"][0]) == 4
    assert out["urgency"][1] == "critical"
    assert out["error"].tolist() == [None, None, "missing_text"]


def test_dask_recipe_on_the_local_scheduler(default_is_fake: KeywordClassifier) -> None:
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    texts = [
        "【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
        "【示例云】您的网站 example-shop.cn 已完成取消接入。",
        "【示例云】备案季特惠，云服务器9.9元起",
    ] * 4
    df = pd.DataFrame({"text": pd.Series(texts, dtype=object), "n": range(12)})
    ddf = dd.from_pandas(df, npartitions=3)
    from icp_notify.batch import frame_meta

    labelled = ddf.map_partitions(label_frame, text_col="text", meta=frame_meta(ddf._meta))
    result = labelled.compute(scheduler="synchronous")
    assert result["n"].tolist() == list(range(12))
    assert result["situation"].tolist()[:3] == [None, "access_cancelled", "other"]
    assert result["action"].notna().all()


def test_workers_write_the_same_lines_with_the_real_pipeline() -> None:
    import datetime as dt

    base = dt.datetime(2025, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    msgs = [
        RawMessage(
            text=f"【示例云】您提交的变更备案（site{i % 7}-example.cn）已通过管局审核，请核对备案信息。",
            sender="10690000123",
            received_at=base + dt.timedelta(minutes=i),
        )
        for i in range(30)
    ]
    one = list(label(msgs, now="2025-03-06T12:00:00+08:00"))
    two = list(label(msgs, now="2025-03-06T12:00:00+08:00", workers=2))
    assert two == one
    assert [r.json for r in two] == [r.json for r in one]  # type: ignore[attr-defined]
    assert {r["classification"]["situation"] for r in one} == {"modify_domain"}


def test_a_terminal_progress_bar_reads_labelled_lines(tmp_path: Path) -> None:
    import io

    from icp_notify.batch import label_lines
    from icp_notify.commands.batch import Progress
    from icp_notify.models import SourceRef

    archive = tmp_path / "a.txt"
    archive.write_text("x" * 100, encoding="utf-8")
    msg = RawMessage(
        text="【工信部】尊敬的用户XX，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
        source=SourceRef(file=str(archive), line=1, offset=50, index=0),
    )

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress(screen, 100, enabled=True)
    rows = list(label_lines([msg], now="2025-03-06T12:00:00"))
    for row in rows:
        progress.update(row)
    assert rows[0].source == {"file": str(archive), "line": 1, "offset": 50, "index": 0}  # type: ignore[union-attr]
    assert "50%" in screen.getvalue()


def test_workers_stream_the_same_output_and_summary(tmp_path: Path) -> None:
    import io

    from icp_notify.batch import label_lines, write_rows
    from icp_notify.batch.workers import WorkerLine

    for fmt in ("jsonl", "csv"):
        outs, summaries = [], []
        for workers in (1, 2):
            out, summary = io.StringIO(), Summary()
            rows = list(
                write_rows(
                    label_lines(
                        [ARCHIVES], now="2025-03-06T12:00:00", workers=workers, summary=summary
                    ),
                    out,
                    fmt,  # type: ignore[arg-type]
                )
            )
            outs.append(out.getvalue())
            summaries.append(summary.model_dump(exclude={"cache_hits"}))
            if workers == 2:
                assert any(isinstance(r, WorkerLine) for r in rows)
                line = next(r for r in rows if isinstance(r, WorkerLine))
                assert line.report.notice.raw_text == line.row()["notice"]["raw_text"]
                for row in rows:  # the source decoded alone is the whole line's
                    if isinstance(row, WorkerLine):
                        assert row.source == json.loads(row.json)["source"]
                        assert row.source is not None
        assert outs[0] == outs[1]
        assert summaries[0] == summaries[1]
        assert summaries[0]["labelled"] == 15


@pytest.mark.parametrize(
    ("line", "source"),
    [
        (
            b'{"seq": 7, "source": {"file": "a \\" b.txt", "offset": 3}, "x": 1}',
            {"file": 'a " b.txt', "offset": 3},
        ),
        (b'{"seq": 7, "source": null, "notice": {"source": {"file": "x"}}}', None),
        (
            b'{"source": {"file": "first"}, "seq": 7}',
            {"file": "first"},
        ),  # another order: parsed whole
        (b'{"seq": 7, "source": 5, "source": {"file": "last"}}', {"file": "last"}),
    ],
)
def test_a_worker_line_reads_its_source_as_json_does(line: bytes, source: Any) -> None:
    from icp_notify.batch.workers import WorkerLine

    row = WorkerLine(7, line, "other", "info")
    assert row.source == json.loads(line)["source"] == source
