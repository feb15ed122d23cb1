"""What a classification loads in a new process: only what it uses (docs/performance.md,
"Cold start, third round"). Each test runs a fresh interpreter; none measures time."""

from __future__ import annotations

import subprocess
import sys

GENERIC = "尊敬的用户张**，您的备案信息已被变更，详情请咨询您的接入服务提供商。"


def _loaded_after(code: str) -> set[str]:
    """The modules in ``sys.modules`` after running ``code`` in a new interpreter."""
    script = code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_a_classification_without_context_does_not_load_the_context_engine() -> None:
    loaded = _loaded_after(f"import icp_notify\nicp_notify.classify({GENERIC!r})")
    assert "icp_notify.classifier" in loaded
    assert "icp_notify.context" not in loaded


def test_a_generic_notice_with_a_context_loads_it_and_is_settled() -> None:
    code = (
        "import icp_notify\n"
        f"c = icp_notify.classify({GENERIC!r}, received_at='2025-03-10T09:00:00+08:00',"
        " context={'operations': [{'kind': 'modify_domain',"
        " 'submitted_at': '2025-03-04T10:00:00+08:00'}]})\n"
        "assert c.situation.value == 'modify_domain', c\n"
    )
    assert "icp_notify.context" in _loaded_after(code)


def test_a_plain_sms_compiles_only_the_patterns_it_reaches() -> None:
    """The normaliser's e-mail, forward and HTML patterns stay placeholders (and html.parser
    unimported) after a plain SMS; an e-mail forward then compiles the ones it reaches, which
    replace their placeholders in the module."""
    code = (
        "import icp_notify, regex, sys\n"
        "from icp_notify import normalize, providers\n"
        "from icp_notify.lazyre import LazyPattern\n"
        f"icp_notify.classify({GENERIC!r})\n"
        "lazy = lambda m: sorted(k for k, v in vars(m).items() if isinstance(v, LazyPattern))\n"
        "assert {'_HEADER_LINE', '_FWD_MARKERS', '_HTML_START'} <= set(lazy(normalize))\n"
        "parse = sys.modules['icp_notify.parse']\n"
        "assert {'_EMAIL_HEAD', '_EMAIL_KEY'} <= set(lazy(parse))\n"
        "assert '_NOT_PLAIN' in lazy(providers)\n"
        "assert '_LINE_BREAK_CHARS' not in lazy(normalize)\n"
        "assert 'html.parser' not in sys.modules\n"
        "text = '---------- Forwarded message ---------\\nFrom: a@b.cn\\nSubject: x\\n\\n备案已通过'\n"
        "icp_notify.parse(text)\n"
        "assert isinstance(normalize._FWD_MARKERS, regex.Pattern)\n"
        "assert normalize._FWD_MARKERS.search(text) is not None\n"
        "icp_notify.parse('<html><body><p>备案已通过</p></body></html>')\n"
        "assert not isinstance(normalize._HTML_START, LazyPattern)\n"
    )
    assert "html.parser" in _loaded_after(code)
