"""The visible text of an HTML e-mail body, for :func:`icp_notify.normalize.html_to_text`.

A module of its own so that :mod:`html.parser` is imported only when an HTML body is read
(a notice sent as plain text, the usual case, never needs it).
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["TextExtractor"]

_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "tr",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "hr",
        "dl",
        "dt",
        "dd",
        "address",
        "center",
        "form",
        "fieldset",
        "caption",
    ]
)
_CELL_TAGS = frozenset({"td", "th"})
_DROP_TAGS = frozenset({"style", "script", "head", "title", "noscript", "template", "svg"})


class TextExtractor(HTMLParser):
    """Collect the visible text of an HTML document with paragraph and cell breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._drop = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_TAGS:
            self._drop += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_TAGS:
            self._drop = max(0, self._drop - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._drop:
            # Inside HTML, source line breaks are just spaces.
            self.parts.append(data.replace("\r", " ").replace("\n", " "))
