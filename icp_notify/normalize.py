"""Pure text normalisation of SMS and e-mail notices.

Two levels:

* :func:`normalize_text` folds characters and whitespace only — NFKC width folding (``【】``
  kept), zero-width and control characters removed, traditional-script variants of the filing
  vocabulary folded to simplified, whitespace and blank lines folded. It is idempotent.
* :func:`normalize` does that and then takes the message apart: forwarding wrappers
  (SmsForwarder template, pasted JSON, ``Fwd:`` blocks, QQ-mail 原始邮件 blocks, quoted replies)
  are removed and what they carried is kept as :class:`~icp_notify.models.ForwardInfo`; the
  ``【signature】`` and the opt-out tail (回T退订 …) are separated from the body.

:func:`html_to_text` turns an HTML e-mail body into text (stdlib :mod:`html.parser`).

Examples
--------
>>> normalize_text("京ＩＣＰ備２０２４０１２３４５號－３\u200b")
'京ICP备2024012345号-3'
>>> n = normalize("【工信部】尊敬的用户张**，您的備案信息已被變更。回T退订")
>>> n.signature, n.body, n.opt_out
('工信部', '尊敬的用户张**,您的备案信息已被变更。', '回T退订')
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import regex

from icp_notify.bounded import PROVEN_CHARS
from icp_notify.lazyre import lazy_pattern
from icp_notify.models import Defect, ForwardInfo

__all__ = [
    "PINYIN_TERMS",
    "NormalizedText",
    "decode_quoted_printable",
    "html_to_text",
    "looks_like_html",
    "normalize",
    "normalize_text",
    "strip_subject_prefixes",
]

REGEX_TIMEOUT = 0.5
"""Seconds one pattern may spend on a text longer than :data:`~icp_notify.bounded.PROVEN_CHARS`
(shorter ones need none: ``tests/test_bounded.py`` proves every pattern here bounded on
them); :func:`normalize` turns a timeout into a defect."""


def _search(pattern: regex.Pattern[str], text: str, pos: int = 0) -> regex.Match[str] | None:
    """``pattern.search(text, pos)``, with the timeout only beyond the proven length."""
    if len(text) <= PROVEN_CHARS:
        return pattern.search(text, pos)
    return pattern.search(text, pos, timeout=REGEX_TIMEOUT)


def _match(pattern: regex.Pattern[str], text: str) -> regex.Match[str] | None:
    """``pattern.match(text)``, with the timeout only beyond the proven length."""
    if len(text) <= PROVEN_CHARS:
        return pattern.match(text)
    return pattern.match(text, timeout=REGEX_TIMEOUT)


def _sub(pattern: regex.Pattern[str], repl: Any, text: str) -> str:
    """``pattern.sub(repl, text)``, with the timeout only beyond the proven length."""
    if len(text) <= PROVEN_CHARS:
        return pattern.sub(repl, text)
    return pattern.sub(repl, text, timeout=REGEX_TIMEOUT)


_TAIL_WINDOW = 64
"""Opt-out tails and trailing signatures are looked for in this many final characters."""

# --------------------------------------------------------------------------- character level

#: Traditional-script variants of the vocabulary that matters, folded to simplified. Only
#: characters whose simplified form is unambiguous are listed (one-to-one, no 發/髮 pairs).
# fmt: off
TRADITIONAL_TO_SIMPLIFIED: dict[str, str] = {
    "備": "备", "變": "变", "網": "网", "號": "号", "證": "证", "審": "审", "覈": "核", "註": "注", "銷": "销", "過": "过",
    "業": "业", "詳": "详", "詢": "询", "諮": "咨", "請": "请", "資": "资", "訊": "讯", "應": "应", "為": "为", "務": "务",
    "機": "机", "關": "关", "門": "门", "驗": "验", "碼": "码", "戶": "户", "雲": "云", "騰": "腾", "華": "华", "東": "东",
    "數": "数", "聯": "联", "錄": "录", "時": "时", "內": "内", "個": "个", "與": "与", "說": "说", "發": "发", "將": "将",
    "會": "会", "傳": "传", "從": "从", "問": "问", "題": "题", "電": "电", "話": "话", "處": "处", "狀": "状", "態": "态",
    "經": "经", "營": "营", "許": "许", "體": "体", "後": "后", "區": "区", "產": "产", "總": "总", "導": "导", "覽": "览",
    "閱": "阅", "點": "点", "擊": "击", "連": "连", "結": "结", "鏈": "链", "訪": "访", "無": "无", "開": "开", "啟": "启",
    "們": "们", "簡": "简", "單": "单", "報": "报", "見": "见", "規": "规", "則": "则", "節": "节", "費": "费", "購": "购",
    "買": "买", "實": "实", "認": "认", "檢": "检", "測": "测", "試": "试", "隊": "队", "團": "团", "專": "专", "屬": "属",
    "歸": "归", "類": "类", "間": "间", "讀": "读", "寫": "写", "選": "选", "擇": "择", "條": "条", "遲": "迟", "計": "计",
    "劃": "划", "際": "际", "現": "现", "錯": "错", "誤": "误", "駁": "驳", "補": "补", "線": "线", "閉": "闭", "終": "终",
    "轉": "转", "換": "换", "遷": "迁", "撥": "拨", "給": "给", "據": "据", "達": "达", "遞": "递", "記": "记", "確": "确",
    "週": "周", "帳": "账", "賬": "账", "統": "统", "係": "系", "負": "负", "責": "责", "護": "护", "維": "维", "運": "运",
    "郵": "邮", "齊": "齐", "續": "续", "辦": "办", "幫": "帮", "響": "响", "頁": "页", "項": "项", "額": "额", "顯": "显",
    "懸": "悬", "掛": "挂", "殼": "壳", "頓": "顿", "於": "于", "該": "该", "並": "并", "須": "须", "這": "这", "裡": "里",
    "裏": "里", "粵": "粤", "滬": "沪", "陝": "陕", "遼": "辽", "魯": "鲁", "貴": "贵", "寧": "宁", "瓊": "琼", "晉": "晋",
    "閩": "闽", "贛": "赣", "蘇": "苏", "隴": "陇", "臺": "台", "灣": "湾", "廣": "广", "龍": "龙", "漢": "汉",
}
# fmt: on
_TRAD_TABLE = str.maketrans(TRADITIONAL_TO_SIMPLIFIED)

#: Filing terms written in pinyin by people typing English or on a phone without Chinese input
#: (``the jieru at xinnet is unlinked``, ``quxiao jieru``, ``xzwz 已生效``), glossed to the
#: characters the rules and the text model read. Only terms that are not also common names or
#: English words; ``beian`` stays (the model reads it as it is). A term inside a host name, an
#: e-mail address or a longer Latin word is left alone; a space, ``_`` or ``-`` may split a
#: two-word term.
PINYIN_TERMS: dict[str, str] = {
    "quxiaojieru": "取消接入",
    "qxjr": "取消接入",
    "xinzengwangzhan": "新增网站",
    "xzwz": "新增网站",
    "jieru": "接入",
    "xinzeng": "新增",
    "biangeng": "变更",
    "guanju": "管局",
    "zhuxiao": "注销",
    "kongke": "空壳",
    "hecha": "核查",
    "zhenggai": "整改",
    "chushen": "初审",
}
_PINYIN_SPLIT = {"quxiaojieru": "quxiao jieru", "xinzengwangzhan": "xinzeng wangzhan"}
_PINYIN = lazy_pattern(
    globals(),
    re.compile,
    r"(?<![A-Za-z0-9_@/\-])(?<![A-Za-z0-9]\.)(?:"
    + "|".join(
        _PINYIN_SPLIT.get(t, t).replace(" ", r"[ \t_-]?")
        for t in sorted(PINYIN_TERMS, key=len, reverse=True)
    )
    + r")(?![A-Za-z0-9_@/\-]|\.[A-Za-z0-9])",
    re.IGNORECASE,
)
_PINYIN_SEPARATORS = str.maketrans("", "", " \t_-")
_PINYIN_NEEDLES = tuple(sorted({_PINYIN_SPLIT.get(t, t).split(" ")[0] for t in PINYIN_TERMS}))
"""Lower-case strings one of which every match of ``_PINYIN`` contains (a term, or the first
word of a split one), so a text holding none is not searched (the search tries every position)."""
_PINYIN_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})
"""The characters ``re.IGNORECASE`` matches to an ASCII letter that ``str.lower`` does not map
to it (İ, ı and ſ match ``i``, ``i`` and ``s``), to that letter."""
_PINYIN_UNSAFE = frozenset(map(chr, _PINYIN_FOLD))
"""A text holding one of these is always searched (its lower case may hide a term)."""
_PINYIN_UNSAFE_ORDER = tuple(sorted(_PINYIN_UNSAFE))


def _may_hold_pinyin(text: str) -> bool:
    """``False`` only when ``_PINYIN`` cannot match ``text`` (no needle in its lower case)."""
    # ``in`` per unsafe character (a C search each) rather than ``isdisjoint(text)``, which
    # makes a one-character string of every character of the text; loops, not ``any``
    for ch in _PINYIN_UNSAFE_ORDER:
        if ch in text:
            return True
    low = text.lower()
    for needle in _PINYIN_NEEDLES:  # noqa: SIM110 (a loop: no generator frame)
        if needle in low:
            return True
    return False


def _gloss_pinyin(m: re.Match[str]) -> str:
    """The characters of one pinyin filing term."""
    term = m.group(0).translate(_PINYIN_FOLD).lower().translate(_PINYIN_SEPARATORS)
    return PINYIN_TERMS[term]


#: Characters that end a line (besides ``\n``); folded to ``\n`` before controls are removed.
_LINE_BREAKS = str.maketrans(
    {"\r": "\n", "\x0b": "\n", "\x0c": "\n", "\x1c": "\n", "\x1d": "\n", "\x1e": "\n",
     "\x85": "\n", "\u2028": "\n", "\u2029": "\n"}
)  # fmt: skip


# Candidates for removal, found fast; each is confirmed with unicodedata (the Unicode version
# Python's NFKC uses), so the result does not depend on the regex module's tables.
_MAYBE_INVISIBLE = lazy_pattern(globals(), regex.compile, r"[\p{Cf}\p{Cc}\p{Cs}]")


def _invisible(m: regex.Match[str]) -> str:
    ch = m.group(0)
    if ch in "\n\t":
        return ch
    return "" if unicodedata.category(ch) in {"Cf", "Cc", "Cs"} else ch


# Literal character classes: the stdlib finds them fastest (no backtracking, no timeout needed).
_LINE_BREAK_CHARS = lazy_pattern(
    globals(), re.compile, "[" + "".join(re.escape(chr(c)) for c in _LINE_BREAKS) + "]"
)
_TRAD_CHARS = lazy_pattern(
    globals(), re.compile, "[" + "".join(re.escape(c) for c in TRADITIONAL_TO_SIMPLIFIED) + "]"
)


#: Full-width forms and the ideographic space: what makes most notices not NFKC-normal.
_WIDE = lazy_pattern(globals(), re.compile, "[\u3000\uff01-\uff5e]")
_WIDE_NFKD = {
    chr(c): unicodedata.normalize("NFKD", chr(c)) for c in (0x3000, *range(0xFF01, 0xFF5F))
}


def _nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, cheaper when only full-width forms need folding.

    Replacing a character by its NFKD form leaves the text's NFKD (and so its NFKC) unchanged;
    when the result is then NFKC-normal, it is the NFKC of ``text``.
    """
    for ch in set(_WIDE.findall(text)):
        text = text.replace(ch, _WIDE_NFKD[ch])
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def _may_hold_invisible(text: str) -> bool:
    """Whether :func:`_drop_invisible` could change ``text``.

    It removes only characters that :func:`unicodedata.category` puts in Cf, Cc or Cs (``\n``
    and ``\t`` kept); :meth:`str.isprintable` (same Unicode database) is false for every one
    of them, so printable text without them is left as it is.
    """
    if text.isprintable():
        return False
    return not text.replace("\n", "").replace("\t", "").isprintable()


def _drop_invisible(text: str) -> str:
    """Remove zero-width and format (Cf), control (Cc, except newline and tab) and surrogate code points."""
    try:
        return _sub(_MAYBE_INVISIBLE, _invisible, text)
    except TimeoutError:  # one character class cannot backtrack; this is belt and braces
        return "".join(
            ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in {"Cf", "Cc", "Cs"}
        )


#: Characters of CJK script for the spacing rule: Han ideographs, CJK symbols and punctuation
#: (、。【】《》「」…), full-width forms left after NFKC, and the kana.
_CJK = r"[\p{Han}\u3000-\u303f\uff00-\uffef\u3040-\u30ff]"
#: ASCII punctuation that NFKC makes of full-width punctuation (，：；！？（）).
_FOLDED_PUNCT = r"[,:;!?()]"
_CJK_SPACES = lazy_pattern(
    globals(),
    regex.compile,
    # a space run between two CJK characters (OCR / spaced-out text: "取 消 接 入")
    rf"(?<={_CJK})[ \t]+(?={_CJK})"
    # a space run between a Han character and folded punctuation ("通 过 , 网站" → "通过,")
    rf"|(?<=\p{{Han}})[ \t]+(?={_FOLDED_PUNCT})"
    # a space run after folded punctuation that follows a Han character, before a Han character
    rf"|(?<=\p{{Han}}{_FOLDED_PUNCT})[ \t]+(?=\p{{Han}})",
)
#: The mark of spaced-out text: three CJK characters in a row, each standing alone between spaces
#: ("取 消 接"). Only lines with such a run are joined, so "域名 demo.cn 状态 已接入" keeps its
#: key-value spaces.
_SPACED_RUN = lazy_pattern(
    globals(), regex.compile, rf"(?<!{_CJK}){_CJK}(?:[ \t]+{_CJK}(?!{_CJK})){{2}}"
)

_SPACED_RUN_GATE = lazy_pattern(globals(), re.compile, r"[ \t][^\x00-\x7f][ \t]")
"""What every match of ``_SPACED_RUN`` holds (its middle CJK character, between its two runs
of spaces or tabs; every CJK character is outside ASCII): a line without it is not searched."""


def _join_cjk_spaces(line: str) -> str:
    """Join a spaced-out line: remove the spaces between CJK characters (and punctuation).

    Chinese is written without spaces, so a line where CJK characters stand alone between
    spaces (OCR, a copy from a PDF, a spaced-out SMS: ``取 消 接 入``) has its spaces between
    two CJK characters removed, and those between a Han character and the punctuation next to
    it. Lines without such a run are left alone (key-value spacing ``域名 demo.cn 状态 已接入``).
    Spaces between Latin words, digits and domains are always kept, as is the space after
    punctuation that follows a Latin word ("Dear user, your …").
    """
    # _SPACED_RUN needs "[ \t]+ CJK [ \t]+", so a space or tab, one non-ASCII character and a
    # space or tab in a row (a stdlib literal-class search, far cheaper than the look-arounds)
    if _SPACED_RUN_GATE.search(line) is None:
        return line
    try:
        if _search(_SPACED_RUN, line) is None:
            return line
        # One pass sees the original text, so "过 , 网" needs a second pass for the space after
        # the comma; two passes reach the fixed point (the property tests check idempotence).
        for _ in range(3):
            joined = _sub(_CJK_SPACES, "", line)
            if joined == line:
                break
            line = joined
    except TimeoutError:  # fixed-width look-arounds cannot backtrack; belt and braces
        pass
    return line


def normalize_text(text: str) -> str:
    """Fold characters and whitespace: NFKC, invisible characters, traditional script, spaces.

    The steps, in order: line breaks (``\\r\\n``, ``\\u2028`` …) become ``\\n``; zero-width,
    control and surrogate code points are removed; NFKC folds full-width digits, letters and
    punctuation to their plain forms (``【】`` have no compatibility form and stay); the
    traditional-script variants in :data:`TRADITIONAL_TO_SIMPLIFIED` are folded; runs of
    spaces become one space, lines are stripped and at most one blank line is kept; in a
    spaced-out line (three CJK characters each standing alone: OCR, ``接 入 备 案``) the spaces
    between two CJK characters (Han, CJK punctuation) are removed, and so are those between a
    Han character and the punctuation next to it. Spaces between Latin words, digits and
    domains stay. Filing terms typed in pinyin (:data:`PINYIN_TERMS`: ``jieru``, ``quxiao
    jieru``, ``guanju`` …) become their characters.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The folded text; ``normalize_text(normalize_text(t)) == normalize_text(t)``.

    Examples
    --------
    >>> normalize_text("粵ICP備１２３４５６７８號　\\r\\n\\r\\n\\r\\n  网站  已接入")
    '粤ICP备12345678号\\n\\n网站 已接入'
    >>> normalize_text("取 消 接 入 成 功 ， 网 站 : demo-site.cn , Dear user, see a.cn")
    '取消接入成功,网站: demo-site.cn , Dear user, see a.cn'
    >>> normalize_text("old IDC did the quxiao jieru, guanju OK. see jieru.example.com")
    'old IDC did the 取消接入, 管局 OK. see jieru.example.com'
    """
    # Removing an invisible character can put two code points side by side that NFKC then
    # composes (and NFKC can yield a new line break); repeat until nothing changes (≤ 4 rounds).
    # Each step is skipped when a one-character-class search (or ``str.isprintable``) finds
    # nothing it would change (``str.translate`` with a dict looks up every character; the
    # search runs in C).
    for _ in range(4):
        folded = text
        if _LINE_BREAK_CHARS.search(folded) is not None:
            folded = folded.translate(_LINE_BREAKS)
        if _may_hold_invisible(folded):
            folded = _drop_invisible(folded)
        if not unicodedata.is_normalized("NFKC", folded):
            folded = _nfkc(folded)
        if _TRAD_CHARS.search(folded) is not None:
            folded = folded.translate(_TRAD_TABLE)
        if folded == text:
            break
        text = folded
    if _may_hold_pinyin(text):
        text = _PINYIN.sub(_gloss_pinyin, text)
    lines: list[str] = []
    for line in text.split("\n"):
        folded = _join_cjk_spaces(" ".join(line.split()))  # one space; none between CJK
        if folded or (lines and lines[-1]):
            lines.append(folded)  # keep at most one blank line in a row
    return "\n".join(lines).strip()


# --------------------------------------------------------------------------- MIME leftovers

_QP_RUN = lazy_pattern(globals(), regex.compile, r"(?:=[0-9A-F]{2}){3}")
_QP_HEADER = lazy_pattern(
    globals(),
    regex.compile,
    r"^content-transfer-encoding\s*:\s*quoted-printable\s*$",
    regex.I | regex.M,
)
_MIME_HEADERS = lazy_pattern(
    globals(),
    regex.compile,
    r"\A(?:(?:content-type|content-transfer-encoding|mime-version|content-disposition)\s*:[^\n]*\n)+\s*",
    regex.I,
)


def decode_quoted_printable(text: str) -> str | None:
    """Decode a body pasted with its quoted-printable transfer encoding still on it.

    Mail archives and copy-paste accidents leave ``=E5=B0=8A…`` runs, soft line breaks (``=`` at a
    line end) and ``=3D`` in the text. When the text names the encoding (a ``Content-Transfer-Encoding:
    quoted-printable`` line) or holds a run of three encoded bytes, it is decoded with the standard
    library's :mod:`quopri` (UTF-8, then GB18030) and leading MIME header lines are dropped.

    Parameters
    ----------
    text : str
        A notice as received.

    Returns
    -------
    str or None
        The decoded text, or ``None`` when the text shows no such encoding or does not decode
        (the caller keeps it as it is).

    Examples
    --------
    >>> pasted = "Content-Transfer-Encoding: quoted-printable\\n\\n=E5=A4=87=E6=A1=88=\\n=E5=B7=B2=E9=80=9A=E8=BF=87"
    >>> decode_quoted_printable(pasted)
    '备案已通过'
    >>> decode_quoted_printable("a=b and x=1") is None
    True
    """
    if "=" not in text or (_QP_RUN.search(text) is None and _QP_HEADER.search(text) is None):
        return None
    import quopri

    raw = quopri.decodestring(text.encode("utf-8"))
    for charset in ("utf-8", "gb18030"):
        try:
            decoded = raw.decode(charset)
        except UnicodeDecodeError:
            continue
        decoded = _MIME_HEADERS.sub("", decoded.replace("\r\n", "\n"))
        return decoded if decoded != text else None
    return None


# --------------------------------------------------------------------------- HTML


def _strip_tags(html: str) -> str:
    """Replace each ``<…>`` (to the first ``>``) by a space: ``regex.sub(r"<[^>]*>", " ", html)``.

    Written with :meth:`str.find`, so it is linear: the pattern retried its scan for a ``>`` from
    every ``<`` of a text with none after it (``"<" * n`` took quadratic time).
    """
    out: list[str] = []
    pos = 0
    while (start := html.find("<", pos)) != -1 and (end := html.find(">", start)) != -1:
        out += (html[pos:start], " ")
        pos = end + 1
    out.append(html[pos:])
    return "".join(out)


# Used with ``match``. One optional comment block whose ``.*?`` may span several comments accepts
# exactly what any number of comments did (``(?:<!--.*?-->\s*)*``, whose ways of splitting a run of
# comments grew exponentially when no tag followed); ``\A`` keeps a search from retrying it.
_HTML_START = lazy_pattern(
    globals(),
    regex.compile,
    r"\A\s*(?:<!--.*?-->\s*)?<(?:!doctype\s+html|html|head|body|div|table|p|span|meta)\b",
    regex.I | regex.S,
)
_HTML_CLOSE = lazy_pattern(
    globals(), regex.compile, r"</(?:html|body|div|p|table|td|span)\s*>|<br\s*/?>", regex.I
)


def looks_like_html(text: str) -> bool:
    """Tell whether ``text`` is an HTML document or fragment rather than plain text.

    Parameters
    ----------
    text : str
        A message body.

    Returns
    -------
    bool
        ``True`` when it starts like HTML and has a closing tag (``False`` on a regex timeout).

    Examples
    --------
    >>> looks_like_html("<html><body><p>备案已通过</p></body></html>"), looks_like_html("a < b")
    (True, False)
    """
    if "<" not in text:  # both patterns need one
        return False
    try:
        return bool(_match(_HTML_START, text)) and bool(_search(_HTML_CLOSE, text))
    except TimeoutError:
        return False


def html_to_text(html: str) -> str:
    """Return the visible text of an HTML e-mail body.

    ``<style>``, ``<script>`` and ``<head>`` are dropped, block elements (``p``, ``div``,
    ``br``, ``tr`` …) end a line, table cells are separated by a space, character references
    are decoded. The result is passed through :func:`normalize_text`.

    Parameters
    ----------
    html : str
        The HTML body (a document or a fragment).

    Returns
    -------
    str
        Normalized text, one line per block, without empty lines.

    Examples
    --------
    >>> html_to_text("<style>p{color:red}</style><p>尊敬的用户：</p><table><tr><td>域名</td>"
    ...              "<td>example.cn</td></tr></table><p>备案&nbsp;已通过</p>")
    '尊敬的用户:\\n域名 example.cn\\n备案 已通过'
    """
    from icp_notify._htmltext import TextExtractor  # html.parser: only an HTML body needs it

    parser = TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; be safe on pathological input
        return normalize_text(_strip_tags(html))
    text = normalize_text("".join(parser.parts))
    return "\n".join(line for line in text.split("\n") if line)


# --------------------------------------------------------------------------- message level

# A signature is a short brand: never a filing number or a long digit run (【京ICP备…】 is text).
_SIG = r"(?![^【】\n]*(?:ICP|公网安备|\d{5}))([^【】\n]{1,30})"
_SIGNATURE_HEAD = lazy_pattern(globals(), regex.compile, r"^【" + _SIG + r"】\s*", regex.I)
# The tails are searched from a position (``\G``) and start with a run of separators: a match
# starts where the search starts or where such a run starts (the leftmost match always does), so
# a search does not rescan a long run from each of its characters.
_SIGNATURE_TAIL = lazy_pattern(
    globals(), regex.compile, r"(?:\G|(?<!\s))\s*【" + _SIG + r"】$", regex.I
)
_OPT_OUT_TAIL = lazy_pattern(
    globals(),
    regex.compile,
    r"(?:\G|(?<![\s,，;；]))[\s,，;；]*"
    r"(?P<tail>"
    r"(?:(?:拒收|退订|取消订阅|不再接收)请?回复?\s*[A-Za-z]{1,2}\d?"
    r"|回复?\s*[A-Za-z]{1,2}\d?\s*(?:退订|拒收|退|取消)"
    r"|退订回复?\s*[A-Za-z]{1,2}\d?|[A-Za-z]{1,2}退订|退订\s*[A-Za-z]{1,2}\d?)"
    r")[\s.。!！]*$",
    regex.I,
)

_SUBJECT_PREFIX = lazy_pattern(
    globals(),
    regex.compile,
    r"^\s*(?:(?P<fwd>转发|轉發|Fwd?|FW|WG|TR)|回复|答复|Re|AW|SV)\s*(?:\[\d+\]\s*)?[:：]\s*",
    regex.I,
)

_SMSF_SIM = lazy_pattern(
    globals(), regex.compile, r"^(?:SIM|卡槽|卡)\s*\d\s*[_:：\-].*$|^SIM\d$", regex.I
)
_SMSF_SUBID = lazy_pattern(globals(), regex.compile, r"^SubId\s*[:：]\s*(?P<id>\S*)\s*$", regex.I)
_SMSF_TIME = lazy_pattern(
    globals(), regex.compile, r"^\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(?::\d{2})?$"
)
_SMSF_SENDER = lazy_pattern(
    globals(),
    regex.compile,
    r"^(?:(?:发件人|来自|发送者|From|sender)\s*[:：]\s*)?(?P<s>\+?[\d\- ]{3,20}|[\w.+-]+@[\w.-]+|[^\s【】:：]{1,20})$",
    regex.I,
)

_FWD_MARKERS = lazy_pattern(
    globals(),
    regex.compile,
    r"^-{3,}\s*(?:Forwarded message|Original Message|转发的邮件|转发邮件|原始邮件|原始信息|邮件原文)\s*-{3,}$"
    r"|^-{3,}\s*(?:Forwarded message|Original Message|原始邮件)\s*-*$"
    r"|^Begin forwarded message:$",
    regex.I | regex.M,
)
_HEADER_LINE = lazy_pattern(
    globals(),
    regex.compile,
    r"^(?P<k>From|To|Cc|Date|Sent|Subject|发件人|收件人|抄送|日期|时间|发送时间|主题|标题|Reply-To)\s*[:：]\s*(?P<v>.*)$",
    regex.I,
)
# "在 … 写道:" / "On … wrote:": the line that introduces a quoted message.
_ATTRIBUTION = (
    r"(?:在\s*.{1,80}?写道\s*[:：]?|On .{1,120}? wrote:|.{0,80}于\s*.{1,60}写道\s*[:：]?)"
)
_QUOTE_ATTRIBUTION = lazy_pattern(globals(), regex.compile, r"^" + _ATTRIBUTION + r"$")
# An address starts after a character it cannot hold (the leftmost match always does).
_EMAIL_IN = lazy_pattern(globals(), regex.compile, r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Words of a filing notice: unquoted text holding them is the notice itself, not a note
# written around a quoted one (a reply, or an mbox-escaped ">From" line in the body).
_FILING_VOCABULARY = lazy_pattern(
    globals(),
    regex.compile,
    r"备案|ICP|接入|工信部|工业和信息化部|通信管理局|管局|beian|miit|12381|filing",
    regex.I,
)

# A reply thread, newest message on top: where the quoted history starts. A reply header
# ("-----原始邮件-----", "Original Message"; not a "Forwarded message": a forward carries the
# notice), a "在 … 写道" / "On … wrote:" line, the first ">" line, or a separator line naming the
# earlier message ("-------- 8月1日 顾婷 --------").
_HISTORY_START = lazy_pattern(
    globals(),
    regex.compile,
    r"^-{3,}\s*(?:Original Message|原始邮件|原始信息|邮件原文)\s*-*$"
    r"|^" + _ATTRIBUTION + r"$"
    r"|^>"
    r"|^-{4,}[^-|\n]{1,40}-{4,}$",
    regex.I | regex.M,
)
# The newest message states what happened to a filing (an outcome or a step), not a question.
_OUTCOME_WORDS = lazy_pattern(
    globals(),
    regex.compile,
    r"通过|生效|已完成|完成了|办结|办好|已提交|提交至|提交到|驳回|退回|取消接入|已取消|已注销|下号|批了|批下来|审核中"
    r"|approved|granted|submitted|rejected|declined|cancell?ed|completed|took effect|taken effect"
    r"|went live|pending",
    regex.I,
)
_QUESTION = lazy_pattern(globals(), regex.compile, r"[?？]|吗(?!啡)")
# A forward: what is under the comment is the notice being passed on, not older news.
_FORWARDING = lazy_pattern(
    globals(), regex.compile, r"^\s*(?:fwd?|转)\s*[:：]|转发|转一下|转给|forward", regex.I | regex.M
)


def _newest_reply(text: str) -> tuple[str, str] | None:
    """The newest message of a reply thread and the quoted history under it, when the newest
    message itself states what happened to a filing (the history then tells older news)."""
    if ">" not in text and "---" not in text and "写道" not in text and "wrote:" not in text:
        return None
    m = _search(_HISTORY_START, text)
    if m is None or m.start() == 0:
        return None
    top = text[: m.start()].strip()
    history = text[m.start() :]
    if history.startswith(">") and _search(_FILING_VOCABULARY, history) is None:
        return None  # a bare quote line that is no filing message (an mbox ">From" escape …)
    if (
        _search(_FORWARDING, top) is not None
        or _search(_FILING_VOCABULARY, top) is None
        or _search(_OUTCOME_WORDS, top) is None
        or _search(_QUESTION, top) is not None
    ):
        return None
    return top, history


#: JSON keys that hold the message text / the sender / the receive time, in order of preference.
JSON_TEXT_KEYS = ("content", "text", "body", "message", "msg", "sms", "smsContent", "sms_content")
JSON_SENDER_KEYS = ("from", "sender", "phoneNumber", "phone", "address", "source", "number")
JSON_TIME_KEYS = ("receivedAt", "received_at", "receive_time", "time", "date", "timestamp")
_MAX_UNWRAP = 6


@dataclass(frozen=True)
class NormalizedText:
    """A message taken apart by :func:`normalize`.

    Attributes
    ----------
    body : str
        The normalised body: no signature, opt-out tail or forwarding wrapper.
    signature : str or None
        The ``【…】`` brand, without brackets.
    opt_out : str or None
        The opt-out tail, e.g. ``回T退订``.
    forward : ForwardInfo or None
        What the outermost forwarding wrapper carried.
    defects : tuple of Defect
        What was stripped (``forward_wrapper``, ``forward_note_dropped`` …).

    Examples
    --------
    >>> normalize("【阿里云】您的网站已接入。回T退订")
    NormalizedText(body='您的网站已接入。', signature='阿里云', opt_out='回T退订', forward=None, defects=())
    """

    body: str
    signature: str | None = None
    opt_out: str | None = None
    forward: ForwardInfo | None = None
    defects: tuple[Defect, ...] = field(default=())


def strip_subject_prefixes(subject: str) -> tuple[str, bool]:
    """Remove ``转发:``, ``Fwd:``, ``FW:``, ``Re:``, ``回复:`` prefixes (repeated) from a subject.

    Parameters
    ----------
    subject : str
        An e-mail subject; it is normalized first.

    Returns
    -------
    tuple of (str, bool)
        The subject without prefixes and whether a *forwarding* prefix (not a reply prefix)
        was among them.

    Examples
    --------
    >>> strip_subject_prefixes("Fwd: 转发：【阿里云】备案变更通知")
    ('【阿里云】备案变更通知', True)
    """
    subject = normalize_text(subject)
    found = False
    while True:
        try:
            m = _match(_SUBJECT_PREFIX, subject)
        except TimeoutError:
            return subject, found
        if not m:
            return subject, found
        found = found or m["fwd"] is not None
        subject = subject[m.end() :]


def _unwrap_json(text: str) -> tuple[str, ForwardInfo] | None:
    if not (text.startswith("{") and text.endswith("}")) or len(text) > 1_000_000:
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    for _ in range(3):  # {"event": …, "payload": {"message": …}} and similar nesting
        inner = next(
            (obj[k] for k in ("payload", "data", "sms") if isinstance(obj.get(k), dict)), None
        )
        if inner is None or any(isinstance(obj.get(k), str) for k in JSON_TEXT_KEYS):
            break
        obj = inner
    body = next((obj[k] for k in JSON_TEXT_KEYS if isinstance(obj.get(k), str) and obj[k]), None)
    if body is None:
        return None
    sender = next(
        (str(obj[k]) for k in JSON_SENDER_KEYS if isinstance(obj.get(k), str | int)), None
    )
    when = next((str(obj[k]) for k in JSON_TIME_KEYS if isinstance(obj.get(k), str | int)), None)
    info = ForwardInfo(
        wrapper="json",
        original_sender=normalize_text(sender) or None if sender is not None else None,
        received_text=when,
        device=obj.get("deviceName") if isinstance(obj.get("deviceName"), str) else None,
    )
    return normalize_text(body), info


def _unwrap_smsforwarder(text: str) -> tuple[str, ForwardInfo] | None:
    lowered = text.lower()
    if "sim" not in lowered and "subid" not in lowered and "卡" not in text:
        return None
    lines = text.split("\n")
    sim_at = next((i for i, line in enumerate(lines) if _match(_SMSF_SIM, line)), None)
    subid_at = next((i for i, line in enumerate(lines) if _match(_SMSF_SUBID, line)), None)
    if sim_at is None and subid_at is None:
        return None
    first_meta = min(i for i in (sim_at, subid_at) if i is not None)
    if first_meta < 1:
        return None
    meta = lines[first_meta:]
    content = lines[:first_meta]
    # Trailing template lines: SIM slot, SubId, receive time, device name (in any order,
    # all short, none of them the SMS itself).
    sim = sub_id = when = device = None
    for line in meta:
        if not line:
            continue
        if _match(_SMSF_SIM, line) and sim is None:
            sim = line
        elif (m := _match(_SMSF_SUBID, line)) and sub_id is None:
            sub_id = m["id"]
        elif _match(_SMSF_TIME, line) and when is None:
            when = line
        elif len(line) <= 40 and device is None:
            device = line
        else:
            return None  # not the template after all: something long after the SIM line
    sender = None
    if len(content) >= 2 and (m := _match(_SMSF_SENDER, content[0])) and "【" not in content[0]:
        sender = m["s"].strip()
        content = content[1:]
    body = "\n".join(content).strip()
    if not body:
        return None
    info = ForwardInfo(
        wrapper="smsforwarder",
        original_sender=sender,
        sim=sim,
        sub_id=sub_id,
        received_text=when,
        device=device,
    )
    return body, info


def _parse_header_block(lines: list[str]) -> tuple[dict[str, str], int]:
    """Read ``Key: value`` lines from the top; return them and the index after the block."""
    headers: dict[str, str] = {}
    i = 0
    while i < len(lines) and not lines[i]:
        i += 1
    while i < len(lines):
        m = _match(_HEADER_LINE, lines[i])
        if not m:
            break
        headers.setdefault(m["k"].lower(), m["v"].strip())
        i += 1
    return headers, i


def _sender_of(headers: dict[str, str]) -> str | None:
    value = headers.get("from") or headers.get("发件人")
    if not value:
        return None
    m = _search(_EMAIL_IN, value)
    return m.group(0).lower() if m else value.strip('"<> ') or None


def _unwrap_email_block(text: str) -> tuple[str, ForwardInfo, str] | None:
    if "---" not in text and "forwarded message" not in text.lower():
        return None
    m = _search(_FWD_MARKERS, text)
    if not m:
        return None
    marker = m.group(0)
    wrapper = "qq_original" if "原始" in marker else "email_forward"
    note = text[: m.start()].strip()
    lines = text[m.end() :].split("\n")
    headers, after = _parse_header_block(lines)
    body = "\n".join(lines[after:]).strip()
    if not body:
        return None
    info = ForwardInfo(
        wrapper=wrapper,
        original_sender=_sender_of(headers),
        received_text=headers.get("date") or headers.get("发送时间") or headers.get("sent"),
    )
    return body, info, note


def _unwrap_quoted(text: str) -> tuple[str, ForwardInfo, str] | None:
    if ">" not in text:
        return None
    lines = text.split("\n")
    quoted = [i for i, line in enumerate(lines) if line.startswith(">")]
    if not quoted:
        return None
    start = quoted[0]
    attribution_at = None
    for j in range(start - 1, -1, -1):
        if not lines[j]:
            continue
        if _match(_QUOTE_ATTRIBUTION, lines[j]):
            attribution_at = j
        break
    # The quoted block runs from the first quoted line through the last one; unquoted lines
    # inside it are blank lines of the original.
    end = quoted[-1]
    block = [
        line[2:] if line.startswith("> ") else line.removeprefix(">")
        for line in lines[start : end + 1]
    ]
    body = "\n".join(block).strip()
    if not body:
        return None
    head_end = attribution_at if attribution_at is not None else start
    note = "\n".join(lines[:head_end] + lines[end + 1 :]).strip()
    if attribution_at is None and _search(_FILING_VOCABULARY, note):
        # No "在 … 写道" / "On … wrote:" and the unquoted part reads like a notice: the ">"
        # lines are not the carried message (a quote inside it, an escaped ">From"). Keep all.
        return None
    sender = None
    if attribution_at is not None and (m := _search(_EMAIL_IN, lines[attribution_at])):
        sender = m.group(0).lower()
    info = ForwardInfo(wrapper="quoted_reply", original_sender=sender)
    return normalize_text(body), info, note


#: The Han characters of _OPT_OUT_TAIL.
_TAIL_HAN = frozenset("拒收退订取消阅不再接请回复")


def _tail_start(body: str, cut: int) -> int:
    """Where an _OPT_OUT_TAIL match at or after ``cut`` can start, at the earliest.

    A match runs to the end of ``body`` and holds no Han character but those of
    :data:`_TAIL_HAN` (the rest is separators, whitespace, ASCII letters and digits, and
    trailing punctuation), so it starts after the last other Han character. The pattern has no
    look-behind, so searching from there finds the same match as searching from ``cut``.
    """
    for i in range(len(body) - 1, cut - 1, -1):
        ch = body[i]
        if "\u4e00" <= ch <= "\u9fff" and ch not in _TAIL_HAN:
            return i + 1
    return cut


def _peel_signature_and_opt_out(body: str) -> tuple[str, str | None, str | None]:
    signature: str | None = None
    opt_out: str | None = None
    # Each pattern runs only when the literals it needs are there: _SIGNATURE_HEAD starts
    # with "【"; an _OPT_OUT_TAIL match holds 退, 拒收, 取消 or 不再接收 within the window;
    # _SIGNATURE_TAIL ends with "】" at the end (``$``: or before a final newline).
    for _ in range(4):
        changed = False
        m = _match(_SIGNATURE_HEAD, body) if body.startswith("【") else None
        if m:
            signature = signature or m.group(1).strip()
            body = body[m.end() :]
            changed = True
        # tails are short: look at the end only (bounded work on long bodies)
        cut = max(0, len(body) - _TAIL_WINDOW)
        window = body[cut:]
        if "退" in window or "拒收" in window or "取消" in window or "不再接收" in window:
            m = _search(_OPT_OUT_TAIL, body, _tail_start(body, cut))
            if m and m.start() > 0:
                opt_out = opt_out or m["tail"]
                body = body[: m.start()]
                changed = True
        if not body.endswith(("】", "】\n")):
            m = None
        else:
            cut = max(0, len(body) - _TAIL_WINDOW)
            m = _search(_SIGNATURE_TAIL, body, cut)
        if m and m.start() > 0:
            signature = signature or m.group(1).strip()
            body = body[: m.start()]
            changed = True
        if not changed:
            break
    return body.strip(), signature, opt_out


def normalize(text: str, *, html: bool = False) -> NormalizedText:
    """Normalise a message and take it apart into body, signature, opt-out tail and wrapper.

    Parameters
    ----------
    text : str
        The message text (SMS, e-mail body, a forwarded copy of either).
    html : bool, default False
        Treat ``text`` as HTML (see :func:`html_to_text`).

    Returns
    -------
    NormalizedText
        ``body`` is the normalised text without signature, opt-out tail or forwarding wrapper;
        normalising ``body`` again returns it unchanged. If a pattern times out, ``body`` is
        the character-level normalisation only and a ``regex_timeout`` defect says so.

    Examples
    --------
    >>> n = normalize("10690000123\\n【腾讯云】您的网站备案已通过。拒收请回复R\\n"
    ...               "SIM1_中国移动_18800000000\\nSubId：1\\n2025-06-24 09:41:07\\nXiaomi 13")
    >>> n.body, n.signature, n.opt_out
    ('您的网站备案已通过。', '腾讯云', '拒收请回复R')
    >>> n.forward.wrapper, n.forward.original_sender, n.forward.device
    ('smsforwarder', '10690000123', 'Xiaomi 13')
    """
    try:
        return _normalize(text, html)
    except TimeoutError:
        return NormalizedText(
            body=normalize_text(text),
            defects=(
                Defect(
                    code="regex_timeout",
                    message="a normalisation pattern timed out; wrappers and tails were left in",
                ),
            ),
        )


def _normalize(text: str, html: bool) -> NormalizedText:
    """See :func:`normalize`."""
    body = html_to_text(text) if html else normalize_text(text)
    forward: ForwardInfo | None = None
    defects: list[Defect] = []
    signature: str | None = None
    opt_out: str | None = None
    peeled_already = False  # the last peel left ``body`` as it was (peeling is a pure function)
    for _ in range(_MAX_UNWRAP):
        before = body
        unwrapped: tuple[str, ForwardInfo] | None = _unwrap_json(body) or _unwrap_smsforwarder(body)
        note = ""
        if unwrapped is None and (thread := _newest_reply(body)) is not None:
            body = normalize_text(thread[0])
            defects.append(
                Defect(
                    code="quoted_history_dropped",
                    message=f"read the newest message of a reply thread; dropped {len(thread[1])}"
                    " characters of quoted history under it",
                )
            )
            continue
        if unwrapped is None:
            three = _unwrap_email_block(body) or _unwrap_quoted(body)
            if three is not None:
                unwrapped = three[0], three[1]
                note = three[2]
        if unwrapped is None:
            # A signature may sit outside a wrapper ("【转发】{json}"): peel and retry.
            peeled, sig, tail = _peel_signature_and_opt_out(body)
            if peeled == body:
                peeled_already = True  # and then sig and tail are None
                break
            body = peeled
            signature = signature or sig
            opt_out = opt_out or tail
            continue
        body, info = unwrapped
        body = normalize_text(body)
        forward = forward or info
        defects.append(
            Defect(
                code="forward_wrapper",
                message=f"removed a {info.wrapper} forwarding wrapper; kept what it carried",
            )
        )
        if note:
            defects.append(
                Defect(
                    code="forward_note_dropped",
                    message=f"dropped {len(note)} characters written around the forwarded message",
                )
            )
        if body == before:
            break
    sig = tail = None
    if not peeled_already:
        body, sig, tail = _peel_signature_and_opt_out(body)
    return NormalizedText(
        body=body,
        signature=sig or signature,
        opt_out=tail or opt_out,
        forward=forward,
        defects=tuple(defects),
    )
