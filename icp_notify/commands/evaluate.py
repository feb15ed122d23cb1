"""``icp-notify eval FILE.jsonl``: evaluate the classifier on labelled notices.

Runs the full classifier (``Classifier.default().classify_notice(parse(...), context)``) when it is
available, otherwise the text model alone (``--model-only`` forces that), and prints per-label
precision/recall/F1, macro-F1 over the five labels for decided notices, the confusion matrix,
ambiguity accuracy, context-case accuracy, the number of ``other`` notices taken for a change
situation and of ``other`` notices classified ``access_cancelled`` with confidence ≥ 0.9.
``--report out.html`` writes the same as an HTML page with a confusion-matrix picture and a
reliability diagram (confidence against accuracy of decided answers, with the expected calibration
error).

``--by writer`` is the headline evaluation: for each writer of the given files (default: the
corpus), train the text model on every other writer and classify that writer's records with the
full classifier (:func:`icp_notify.crossval.leave_one_writer_out`); it prints a row per writer and
the pooled metrics.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from icp_notify.commands import need_training_extra

if TYPE_CHECKING:
    from icp_notify.corpus import CorpusRecord
    from icp_notify.crossval import WriterFold
    from icp_notify.training import Prediction


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``icp-notify eval``."""
    parser.add_argument(
        "file",
        type=Path,
        nargs="*",
        metavar="FILE.jsonl",
        help="labelled notices (with --by writer: the pool, default every corpus/*.jsonl)",
    )
    parser.add_argument(
        "--by",
        choices=("writer",),
        default=None,
        help="leave-one-writer-out: train without each writer, score on that writer",
    )
    parser.add_argument(
        "--writer",
        action="append",
        default=None,
        metavar="NAME",
        help="with --by writer: leave out only this writer (repeatable)",
    )
    parser.add_argument(
        "--no-combiner",
        action="store_true",
        help="with --by writer: decide by the hand-written policy, without the learned combiner",
    )
    parser.add_argument(
        "--split",
        choices=("train", "dev", "test", "all"),
        default="all",
        help="evaluate only the records of this split (default: all)",
    )
    parser.add_argument("--report", type=Path, default=None, help="write an HTML report here")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument(
        "--model-only",
        action="store_true",
        help="evaluate the text model alone (no rules, no context)",
    )
    parser.add_argument(
        "--model", type=Path, default=None, help="model artefact directory (default: shipped)"
    )


def _predictor(args: argparse.Namespace) -> tuple[str, Callable[[CorpusRecord], Prediction]]:
    from icp_notify.textmodel import TextModel, default_model, notice_tokens
    from icp_notify.training import model_only_prediction

    model = TextModel.load(args.model) if args.model is not None else default_model()
    try:
        if args.model_only:
            raise ImportError("model only")
        from icp_notify.classifier import Classifier
    except ImportError:
        from icp_notify.models import Notice

        def by_model(r: CorpusRecord) -> Prediction:
            try:
                from icp_notify.models import RawMessage as Raw
                from icp_notify.parse import parse as parse_
            except ImportError:  # pragma: no cover - before the parser exists
                notice = Notice(raw_text=r.text, text=r.text, subject=r.subject)
            else:
                notice = parse_(
                    Raw(
                        text=r.text,
                        channel=r.channel,
                        sender=r.sender,
                        received_at=r.received_at,
                        subject=r.subject,
                    )
                )
            return model_only_prediction(model.predict_proba(notice_tokens(notice)))

        return f"text model {model.version} alone", by_model

    from icp_notify.crossval import predict_record, to_prediction

    if args.model is not None:
        from icp_notify.rules import default_rules

        classifier = Classifier(default_rules(), model)
    else:
        classifier = Classifier.default()

    def full(r: CorpusRecord) -> Prediction:
        return to_prediction(predict_record(classifier, r))

    return f"full classifier (rules + text model {model.version} + context)", full


def run(args: argparse.Namespace) -> int:
    """Evaluate and print (or write) the metrics."""
    from icp_notify.corpus import load_corpus, split_of
    from icp_notify.crossval import gold_of
    from icp_notify.errors import InputError
    from icp_notify.training import evaluate

    if args.by == "writer":
        return _run_by_writer(args)
    if args.writer:
        raise InputError("usage", "--writer goes with --by writer", where="--writer")
    if args.no_combiner:
        raise InputError("usage", "--no-combiner goes with --by writer", where="--no-combiner")
    if not args.file:
        raise InputError("usage", "name at least one FILE.jsonl (or use --by writer)", where="file")
    records = load_corpus(args.file)
    if args.split != "all":
        records = [r for r in records if split_of(r.id) == args.split]
    what, predict = _predictor(args)
    golds = [gold_of(r) for r in records]
    preds = [predict(r) for r in records]
    metrics = evaluate(golds, preds)
    metrics["evaluated"] = what
    metrics["files"] = [str(p) for p in args.file]
    metrics["split"] = args.split
    if args.report is not None:
        args.report.write_text(render_html(metrics), encoding="utf-8")
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False, indent=1))
    else:
        print(render_text(metrics))
        if args.report is not None:
            print(f"report written to {args.report}")
    return 0


def _run_by_writer(args: argparse.Namespace) -> int:
    import sys

    from icp_notify.crossval import leave_one_writer_out
    from icp_notify.errors import InputError

    if args.model_only or args.model is not None or args.split != "all":
        raise InputError(
            "usage",
            "--by writer trains its own models on all splits: drop --model, --model-only, --split",
            where="--by",
        )
    need_training_extra("eval --by writer")
    log = (lambda msg: print(msg, file=sys.stderr)) if not args.json else (lambda _m: None)
    folds, pooled = leave_one_writer_out(
        args.file or None, writers=args.writer, combine=not args.no_combiner, log=log
    )
    pooled["evaluated"] = "full classifier, leave-one-writer-out (model trained without the writer)"
    pooled["files"] = [str(p) for p in args.file] or ["corpus/*.jsonl"]
    pooled["split"] = "all"
    rows = writer_rows(folds)
    if args.report is not None:
        args.report.write_text(render_html(pooled, writers=rows), encoding="utf-8")
    if args.json:
        print(json.dumps({"writers": rows, "pooled": pooled}, ensure_ascii=False, indent=1))
        return 0
    print(render_writers(rows))
    print()
    print(render_text(pooled))
    if args.report is not None:
        print(f"report written to {args.report}")
    return 0


def writer_rows(folds: Sequence[WriterFold]) -> list[dict[str, Any]]:
    """One summary row per left-out writer (the table of :func:`render_writers`).

    Parameters
    ----------
    folds : sequence of WriterFold
        From :func:`icp_notify.crossval.leave_one_writer_out`.

    Returns
    -------
    list of dict
    """
    return [
        {
            "writer": f.writer,
            "n": f.metrics["n"],
            "n_train": f.n_train,
            "macro_f1": f.metrics["macro_f1"],
            "explicit_change_recall": f.metrics["explicit_change_recall"],
            "coverage": f.metrics["coverage"],
            "ece": f.metrics["ece"],
            "confident_errors": f.metrics["confident_errors"],
            "generic_flagged": f.metrics["generic_flagged"],
            "errors": len(f.metrics["errors"]),
        }
        for f in folds
    ]


def render_writers(rows: Sequence[dict[str, Any]]) -> str:
    """The leave-one-writer-out table, one row per left-out writer.

    Parameters
    ----------
    rows : sequence of dict
        ``writer``, ``n``, ``macro_f1``, ``explicit_change_recall``, ``coverage``, ``ece``,
        ``confident_errors`` (ids), ``generic_flagged``, ``errors``.

    Returns
    -------
    str

    Examples
    --------
    >>> print(render_writers([{"writer": "w01", "n": 200, "macro_f1": 0.97,
    ...     "explicit_change_recall": 0.98, "coverage": 0.95, "ece": 0.02,
    ...     "confident_errors": [], "generic_flagged": 1.0, "errors": 7}]))
    writer         n  macro-F1  explicit-recall  coverage    ECE  conf.err  generic-amb  errors
    w01          200    0.9700           0.9800    0.9500 0.0200         0       1.0000       7
    """
    lines = [
        f"{'writer':10s} {'n':>5s}  macro-F1  explicit-recall  coverage    ECE  conf.err"
        "  generic-amb  errors"
    ]
    for r in rows:
        lines.append(
            f"{r['writer']:10s} {r['n']:5d}  {r['macro_f1']:8.4f}  {r['explicit_change_recall']:15.4f}"
            f"  {r['coverage']:8.4f} {r['ece']:6.4f}  {len(r['confident_errors']):8d}"
            f"  {r['generic_flagged']:11.4f}  {r['errors']:6d}"
        )
    return "\n".join(lines)


def render_text(m: dict[str, Any]) -> str:
    """Render the metrics as a plain-text summary.

    Parameters
    ----------
    m : dict
        Metrics from :func:`icp_notify.training.evaluate` (plus ``evaluated``/``split``).

    Returns
    -------
    str
    """
    lines = [
        f"evaluated: {m.get('evaluated', '?')} on {m['n']} records (split: {m.get('split', 'all')})",
        "",
        f"{'label':18s} {'precision':>9s} {'recall':>7s} {'f1':>7s} {'support':>8s}",
    ]
    for label, s in m["per_label"].items():
        lines.append(
            f"{label:18s} {s['precision']:9.4f} {s['recall']:7.4f} {s['f1']:7.4f} {s['support']:8d}"
        )
    lines += [
        f"macro-F1 (five labels, {m['n_decided']} decided notices): {m['macro_f1']:.4f}",
        "",
        "confusion (rows gold, columns predicted):",
    ]
    labels: Sequence[str] = m["confusion_labels"]
    short = [lb[:10] for lb in labels]
    lines.append(" " * 18 + " ".join(f"{s:>10s}" for s in short))
    for r in labels:
        lines.append(f"{r:18s}" + " ".join(f"{m['confusion'][r][c]:10d}" for c in labels))
    lines += [
        "",
        f"ambiguity accuracy: {m['ambiguity_accuracy']:.4f}",
        f"generic notices without context flagged ambiguous over all four: {m['generic_flagged']:.4f}"
        f" ({m['n_generic_without_context']})",
        f"context-case accuracy: {m['context_accuracy']:.4f} ({m['n_context']} records)",
        f"'other' taken for a change situation: {m['other_as_change']}",
        f"'other' classified access_cancelled with confidence >= 0.9: {m['other_as_cancelled_confident']}",
        f"kind accuracy: {m['kind_accuracy']:.4f}",
        f"explicit change notices recall: {m['explicit_change_recall']:.4f}"
        f" ({m['n_explicit_change']})",
        f"decided (coverage): {m['coverage']:.4f}; accuracy of decided answers:"
        f" {m['decided_accuracy']:.4f}",
        f"expected calibration error (decided answers): {m['ece']:.4f}",
        f"wrong answers with confidence >= 0.9: {len(m['confident_errors'])}"
        + (f" ({', '.join(m['confident_errors'][:10])})" if m["confident_errors"] else ""),
        f"errors: {len(m['errors'])}",
    ]
    before = m.get("before_calibration")
    if before:
        lines.insert(
            -1,
            f"before calibration: macro-F1 {before['macro_f1']:.4f}, explicit recall"
            f" {before['explicit_change_recall']:.4f}, coverage {before['coverage']:.4f},"
            f" ECE {before['ece']:.4f}, wrong at >= 0.9: {len(before['confident_errors'])}",
        )
    for e in m["errors"][:20]:
        lines.append(
            f"  {e['id']}: gold {e['gold']} ({e['gold_kind']}) → {e['pred']} ({e['pred_kind']})"
        )
    return "\n".join(lines)


def confusion_png(m: dict[str, Any]) -> bytes:
    """Draw the confusion matrix (matplotlib, Agg backend) and return PNG bytes.

    Parameters
    ----------
    m : dict
        Metrics with ``confusion`` and ``confusion_labels``.

    Returns
    -------
    bytes
        A PNG image.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels: list[str] = m["confusion_labels"]
    data = np.array([[m["confusion"][r][c] for c in labels] for r in labels], dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 5.4), dpi=100)
    try:
        ax.imshow(data, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels=labels, rotation=35, ha="right")
        ax.set_yticks(range(len(labels)), labels=labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title("confusion matrix")
        top = data.max() if data.size else 0.0
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(
                    j,
                    i,
                    str(int(data[i, j])),
                    ha="center",
                    va="center",
                    color="white" if data[i, j] > top / 2 else "black",
                )
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()


def reliability_png(m: dict[str, Any]) -> bytes:
    """Draw the reliability diagram of decided answers (matplotlib, Agg) and return PNG bytes.

    Parameters
    ----------
    m : dict
        Metrics with ``reliability`` (bins of ``low``, ``high``, ``n``, ``confidence``,
        ``accuracy``) and ``ece``.

    Returns
    -------
    bytes
        A PNG image: accuracy per confidence bin against the diagonal, bin counts below.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins: list[dict[str, Any]] = m["reliability"]
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(5.6, 6.0), dpi=100, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    try:
        top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        mids = [(b["low"] + b["high"]) / 2 for b in bins]
        width = [b["high"] - b["low"] for b in bins]
        top.bar(
            mids,
            [b["accuracy"] for b in bins],
            width=width,
            edgecolor="black",
            alpha=0.7,
            label="accuracy",
        )
        top.plot(
            [b["confidence"] for b in bins],
            [b["accuracy"] for b in bins],
            "o",
            color="darkred",
            label="mean confidence",
        )
        top.set_ylabel("accuracy of decided answers")
        top.set_ylim(0, 1)
        top.set_title(f"reliability (ECE {m['ece']:.4f})")
        top.legend(loc="upper left")
        bottom.bar(mids, [b["n"] for b in bins], width=width, edgecolor="black")
        bottom.set_xlabel("confidence")
        bottom.set_ylabel("answers")
        bottom.set_xlim(0, 1)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()


def render_html(m: dict[str, Any], *, writers: Sequence[dict[str, Any]] = ()) -> str:
    """Render the metrics as a self-contained HTML page (PNG embedded as base64).

    Parameters
    ----------
    m : dict
        Metrics from :func:`icp_notify.training.evaluate`.
    writers : sequence of dict, optional
        Leave-one-writer-out rows (see :func:`render_writers`), shown as a table first.

    Returns
    -------
    str
        The HTML document.
    """
    esc = html.escape
    png = base64.b64encode(confusion_png(m)).decode("ascii")
    rel = base64.b64encode(reliability_png(m)).decode("ascii")
    writer_rows = "".join(
        f"<tr><td>{esc(r['writer'])}</td><td>{r['n']}</td><td>{r['macro_f1']:.4f}</td>"
        f"<td>{r['explicit_change_recall']:.4f}</td><td>{r['coverage']:.4f}</td>"
        f"<td>{r['ece']:.4f}</td><td>{len(r['confident_errors'])}</td><td>{r['errors']}</td></tr>"
        for r in writers
    )
    writer_html = (
        "<h2>Leave one writer out</h2><table><tr><th>writer</th><th>n</th><th>macro-F1</th>"
        "<th>explicit recall</th><th>coverage</th><th>ECE</th><th>wrong at ≥ 0.9</th>"
        f"<th>errors</th></tr>{writer_rows}</table>"
        if writers
        else ""
    )
    rows = "".join(
        f"<tr><td>{esc(label)}</td><td>{s['precision']:.4f}</td><td>{s['recall']:.4f}</td>"
        f"<td>{s['f1']:.4f}</td><td>{s['support']}</td></tr>"
        for label, s in m["per_label"].items()
    )
    summary = [
        ("macro-F1 (five labels, decided notices)", f"{m['macro_f1']:.4f}"),
        ("ambiguity accuracy", f"{m['ambiguity_accuracy']:.4f}"),
        (
            "generic notices without context flagged over all four",
            f"{m['generic_flagged']:.4f} ({m['n_generic_without_context']})",
        ),
        ("context-case accuracy", f"{m['context_accuracy']:.4f} ({m['n_context']})"),
        ("'other' taken for a change situation", str(m["other_as_change"])),
        (
            "'other' → access_cancelled with confidence ≥ 0.9",
            str(m["other_as_cancelled_confident"]),
        ),
        ("kind accuracy", f"{m['kind_accuracy']:.4f}"),
        ("explicit change notices recall", f"{m['explicit_change_recall']:.4f}"),
        ("decided (coverage)", f"{m['coverage']:.4f}"),
        ("accuracy of decided answers", f"{m['decided_accuracy']:.4f}"),
        ("expected calibration error", f"{m['ece']:.4f}"),
        ("wrong answers with confidence ≥ 0.9", str(len(m["confident_errors"]))),
    ]
    summary_html = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in summary)
    errors = "".join(
        f"<tr><td>{esc(e['id'])}</td><td>{esc(e['gold'])} / {esc(e['gold_kind'])}</td>"
        f"<td>{esc(e['pred'])} / {esc(e['pred_kind'])}</td><td>{e['confidence']:.3f}</td>"
        f"<td>{esc(e['text'])}</td></tr>"
        for e in m["errors"][:200]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>icp-notify eval</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}}</style></head><body>
<h1>icp-notify eval</h1>
<p>{esc(str(m.get("evaluated", "")))} — {m["n"]} records, split {esc(str(m.get("split", "all")))},
files {esc(", ".join(m.get("files", [])))}</p>
{writer_html}
<h2>Summary</h2><table>{summary_html}</table>
<h2>Per label</h2><table><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>{rows}</table>
<h2>Confusion matrix</h2><img alt="confusion matrix" src="data:image/png;base64,{png}">
<h2>Reliability diagram</h2><img alt="reliability diagram" src="data:image/png;base64,{rel}">
<h2>Errors ({len(m["errors"])})</h2>
<table><tr><th>id</th><th>gold</th><th>predicted</th><th>confidence</th><th>text</th></tr>{errors}</table>
</body></html>
"""
