"""scikit-learn is the optional ``train`` extra: the commands that need it say how to install it.

The missing module is simulated with ``sys.modules["sklearn"] = None`` (what ``import sklearn``
sees in an environment without the extra); ``.ci/run`` proves the rest of the CLI works in a real
environment without it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from icp_notify.cli import main
from icp_notify.commands import TRAIN_EXTRA_HINT, need_training_extra
from icp_notify.errors import InputError


@pytest.fixture
def without_sklearn(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)


@pytest.mark.usefixtures("without_sklearn")
def test_need_training_extra_names_the_command_and_the_extra() -> None:
    with pytest.raises(InputError) as info:
        need_training_extra("eval --by writer")
    assert info.value.code == "missing_dependency"
    assert info.value.where == "eval --by writer"
    assert "pip install 'icp-notify[train]'" in str(info.value)


def test_need_training_extra_passes_when_installed() -> None:
    # the dev environment has the extra: nothing is raised, and scikit-learn is importable
    assert need_training_extra("train") is None
    assert "sklearn" in sys.modules


@pytest.mark.usefixtures("without_sklearn")
@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["train", "--no-select", "--no-generalisation"], "train"),
        (["eval", "--by", "writer"], "eval --by writer"),
        (["calibrate"], "calibrate"),
    ],
)
def test_training_commands_fail_cleanly_without_scikit_learn(
    argv: list[str],
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    code = main([*argv, "--out", str(out)] if argv[0] != "eval" else argv)
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith(f"icp-notify {argv[0]}: error: {command}: {command} trains")
    assert TRAIN_EXTRA_HINT in captured.err
    assert "Traceback" not in captured.err
    assert not out.exists()  # nothing written


@pytest.mark.usefixtures("without_sklearn")
def test_commands_that_do_not_train_work_without_scikit_learn(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "analyze",
            "--json",
            "【工信部】尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["classification"]["ambiguous"] is True
    assert report["classification"]["situation"] is None
    assert sys.modules["sklearn"] is None  # nothing tried to bring it back
