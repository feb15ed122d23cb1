"""The pipeline builds its Report without validating again the models it was given: the same
Report as validation gives."""

from __future__ import annotations

from _helpers import corpus_texts

from icp_notify.models import Report
from icp_notify.pipeline import analyze


def test_the_report_is_the_validated_one_on_the_corpus() -> None:
    for text in corpus_texts()[::11]:
        report = analyze(text, now="2026-01-15T12:00:00+08:00")
        again = Report(**{name: getattr(report, name) for name in Report.model_fields})
        assert report == again
        assert report.model_fields_set == again.model_fields_set
        assert report.model_dump_json() == again.model_dump_json()
