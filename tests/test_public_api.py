"""The public API is explicit and pinned; importing the package is cheap."""

import importlib
import re
import subprocess
import sys

import icp_notify

EXPECTED = {
    "Action",
    "Advice",
    "AdviceFileError",
    "Channel",
    "Classification",
    "Context",
    "CorpusError",
    "DataFileError",
    "Entities",
    "Evidence",
    "IcpNotifyError",
    "InputError",
    "Kind",
    "ModelArtifactError",
    "Notice",
    "NoticeAttribution",
    "Operation",
    "OperationTrace",
    "Pipeline",
    "PriorNotice",
    "RawMessage",
    "Report",
    "RuleFileError",
    "SenderType",
    "Situation",
    "Timeline",
    "Urgency",
    "__version__",
    "advise",
    "analyze",
    "classify",
    "explain_timeline",
    "parse",
}


def test_all_is_pinned() -> None:
    assert set(icp_notify.__all__) == EXPECTED


def test_every_public_name_is_the_object_its_module_defines() -> None:
    for name in icp_notify.__all__:
        obj = getattr(icp_notify, name)
        if name == "__version__":
            assert re.fullmatch(r"\d+\.\d+\.\d+\S*", obj)
            continue
        # the lazily imported names come from their module, the errors from icp_notify.errors
        home = importlib.import_module(icp_notify._LAZY.get(name, "icp_notify.errors"))
        defined = getattr(home, name)
        assert defined.__name__ == name
        # icp_notify.parse is the module icp_notify.parse when that was imported first: the
        # module is callable and calls parse()
        assert obj is defined or (obj is home and callable(obj)), name


def test_import_is_light() -> None:
    """`import icp_notify` opens no data file and imports neither jieba nor scikit-learn."""
    code = (
        "import builtins, io, sys\n"
        "opened = []\n"
        "real_open = io.open\n"
        "def spy(file, *a, **k):\n"
        "    opened.append(str(file)); return real_open(file, *a, **k)\n"
        "builtins.open = spy; io.open = spy\n"
        "import icp_notify\n"
        "heavy = [m for m in ('jieba', 'sklearn', 'numpy', 'fastapi', 'regex', 'pydantic') if m in sys.modules]\n"
        "data = [f for f in opened if 'icp_notify/data' in f or f.endswith(('.toml', '.npz', '.jsonl'))]\n"
        "print(repr((heavy, data)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "([], [])"


def test_building_the_command_line_is_light() -> None:
    """`icp-notify --help` / `--version` import no command's heavy dependencies (not even pydantic)."""
    code = (
        "import sys\n"
        "from icp_notify.cli import build_parser\n"
        "build_parser()\n"
        "heavy = ('pydantic', 'jieba', 'sklearn', 'numpy', 'fastapi', 'regex', 'pandas')\n"
        "print(repr([m for m in heavy if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"
