"""Text normalisation shared by the loader (stored search keys) and the search (queries)."""

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-'’`.,;/()_]+")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def normalize(text: str) -> str:
    """Lower-case, accent-free, punctuation-free form: "Saint-Étienne" -> "saint etienne"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_text = ascii_text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae")
    words = _SEPARATORS.sub(" ", ascii_text.lower()).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)
