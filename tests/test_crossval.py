"""Leave-one-writer-out evaluation (icp_notify.crossval) and `icp-notify eval --by writer`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from icp_notify.cli import main
from icp_notify.crossval import independent, leave_one_writer_out, writer_groups
from icp_notify.errors import CorpusError, InputError

TEXTS = {
    "provider_new_domain": [
        "【示例云】您的新增网站备案已审核通过，域名 {d}，备案号浙ICP备2023123456号-{n}。",
        "恭喜！主体下新增网站 {d} 备案成功，分配的网站备案号为京ICP备2021000111号-{n}。",
    ],
    "provider_access_domain": [
        "【示例云】您的网站 {d} 接入备案已通过管局审核，已成功接入示例云。",
        "您提交的新增接入备案已审核通过，网站 {d} 现已接入示例云（{n}）。",
    ],
    "progress": [
        "您的备案订单 1002003{n} 已通过初审，已提交至管局审核，网站 {d}。",
        "您的备案信息正在审核中，网站 {d}，请保持电话畅通（{n}）。",
    ],
    "unrelated": [
        "您的云服务器实例将于2025年6月{n}日到期，请及时续费，域名 {d}。",
        "您的快递已到驿站，取件码 {n}-3-1021，请及时领取。",
    ],
}
SITUATION = {
    "provider_new_domain": "new_domain",
    "provider_access_domain": "access_domain",
    "progress": "other",
    "unrelated": "other",
}


def pool(tmp_path: Path, writers: tuple[str, ...] = ("w01", "w02", "w03")) -> Path:
    path = tmp_path / "pool.jsonl"
    lines = []
    for wi, writer in enumerate(writers):
        for kind, templates in TEXTS.items():
            for ti, template in enumerate(templates):
                n = wi * 10 + ti + 1
                text = template.format(d=f"site{n}-{writer}.cn", n=n)
                lines.append(
                    {
                        "id": f"{writer}-{kind}-{ti}",
                        "writer": writer,
                        "text": text,
                        "channel": "sms",
                        "situation": SITUATION[kind],
                        "kind": kind,
                        "candidates": [SITUATION[kind]],
                    }
                )
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), "utf-8")
    return path


def test_each_writer_is_scored_by_a_model_trained_without_it(tmp_path: Path) -> None:
    folds, pooled = leave_one_writer_out([pool(tmp_path)])
    assert [f.writer for f in folds] == ["w01", "w02", "w03"]
    for f in folds:
        assert f.n_train == 16  # 24 records, 8 of them by the left-out writer
        assert len(f.golds) == len(f.preds) == len(f.raw) == 8
        assert all(g.id.startswith(f.writer) for g in f.golds)
    assert pooled["n"] == 24
    assert pooled["writers_pooled"] == ["w01", "w02", "w03"]
    assert set(pooled["before_calibration"]) >= {"macro_f1", "ece", "confident_errors"}
    assert 0.0 <= pooled["macro_f1"] <= 1.0


def test_bad_pools_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="at least two writers"):
        leave_one_writer_out([pool(tmp_path, ("w01",))])
    with pytest.raises(CorpusError, match="no records by w09"):
        leave_one_writer_out([pool(tmp_path)], writers=["w09"])
    nameless = tmp_path / "nameless.jsonl"
    record = json.loads(pool(tmp_path).read_text("utf-8").splitlines()[0])
    del record["writer"]
    nameless.write_text(json.dumps(record, ensure_ascii=False) + "\n", "utf-8")
    with pytest.raises(CorpusError, match=r"name no writer \(first: w01-"):
        leave_one_writer_out([pool(tmp_path), nameless])


def test_independent_writers_and_groups() -> None:
    assert [w for w in ("w01", "team-hw", "generator", "blind4") if independent(w)] == [
        "w01",
        "blind4",
    ]
    assert writer_groups([{"writer": "b"}, {"writer": None}, {"writer": "b"}]) == {
        "b": [0, 2],
        "unknown": [1],
    }


def test_eval_by_writer_prints_the_table_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pool(tmp_path)
    assert main(["eval", "--by", "writer", "--writer", "w02", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["writer", "n", "macro-F1"]
    assert out.splitlines()[1].startswith("w02 ")
    assert "expected calibration error" in out
    report = tmp_path / "r.html"
    assert main(["eval", "--by", "writer", "--json", "--report", str(report), str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["writer"] for r in data["writers"]] == ["w01", "w02", "w03"]
    html = report.read_text("utf-8")
    assert "Leave one writer out" in html
    assert "reliability diagram" in html


def test_eval_usage_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval"]) == 1
    assert "name at least one FILE.jsonl" in capsys.readouterr().err
    assert main(["eval", "--writer", "w01", str(pool(tmp_path))]) == 1
    assert "--writer goes with --by writer" in capsys.readouterr().err
    assert main(["eval", "--by", "writer", "--model-only", str(pool(tmp_path))]) == 1
    assert "drop --model" in capsys.readouterr().err


def test_a_fold_cache_that_cannot_be_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    in_the_way = tmp_path / "cache"
    in_the_way.write_text("a file", encoding="utf-8")
    with pytest.raises(InputError, match="cannot keep fold models") as err:
        leave_one_writer_out(fold_cache=in_the_way)
    assert err.value.where == "--fold-cache"
