"""Which regular expressions run without a per-call timeout, and why that is safe.

A ``regex`` search given ``timeout=`` reads the process clock twice (two system calls, a few
microseconds on a virtual machine: several times what a search of a short notice costs). The
project's rule:

* **Patterns from a user's file run with a timeout.** A rules file loaded with
  :meth:`icp_notify.rules.RuleSet.load` or :meth:`~icp_notify.rules.RuleSet.from_dict` runs every
  search with the file's ``timeout``; a search that runs out is reported as
  ``Evidence(timed_out=True)``, never raised and never a hang.
* **Our own patterns skip the timeout on texts of at most** :data:`PROVEN_CHARS` **characters.**
  Those of :mod:`~icp_notify.normalize`, :mod:`~icp_notify.entities`, :mod:`~icp_notify.parse`,
  :mod:`~icp_notify.providers`, :mod:`~icp_notify.tokenize`, the ``url`` condition of the rules
  and the shipped rules file (:func:`~icp_notify.rules.default_rules`) are proven bounded by
  ``tests/test_bounded.py``: it collects every pattern of every module the classify path
  loads (and fails on a pattern it does not reach), feeds each adversarial inputs of
  :data:`PROVEN_CHARS` characters derived from the pattern's own quantifiers and alternatives
  (long runs of what each quantifier accepts, near misses, alternating separators, CJK and ASCII
  mixes), and requires every search to finish within a generous timeout.
* **Longer texts keep the timeout.** A text may be longer than the proof: an e-mail body may hold
  up to :data:`icp_notify.parse.MAX_EMAIL_BYTES` characters, ``parse(max_chars=…)`` raises the
  cap, and NFKC can lengthen a text; on such a text every search runs with its timeout, as
  before.

Examples
--------
>>> from icp_notify.parse import MAX_TEXT_CHARS
>>> PROVEN_CHARS >= MAX_TEXT_CHARS
True
"""

from __future__ import annotations

from typing import Final

__all__ = ["PROVEN_CHARS"]

PROVEN_CHARS: Final = 64 * 1024
"""Texts up to this many characters are searched by our own patterns without a timeout.

``tests/test_bounded.py`` proves each pattern bounded on inputs of this length; it is
at least :data:`icp_notify.parse.MAX_TEXT_CHARS`, the default cap on a text (a test pins it).
"""
