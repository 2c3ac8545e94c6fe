"""Pure text helpers shared by the matching stages: folding and words.

Folding drops case and accents (NFKD without combining marks) and maps the
letters NFKD leaves alone (``ı``→``i``, ``ə``→``e``, ``ß``→``ss``), so that
``Erdoğan``, ``ERDOGAN`` and ``Erdogan`` are one word.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")
_SPECIAL = str.maketrans({"ı": "i", "ə": "e", "Ə": "e", "ß": "ss", "ø": "o", "Ø": "o"})


def fold_words(text: str) -> list[str]:
    """The folded words of ``text``: letters and digits, apostrophes and hyphens split."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return _WORD.findall(bare)


def fold(text: str) -> str:
    """Folded words joined and framed by single spaces: ``' erdogan in ankara '``."""
    return " " + " ".join(fold_words(text)) + " "
