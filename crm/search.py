"""Cyrillic-aware search normalisation shared by every database backend.

SQLite folds only ASCII case in LIKE/lower(), so we never rely on the database to fold
case: each searchable row keeps a pre-normalised `search_text` column, and queries are
normalised the same way in Python before a plain `contains` lookup.
"""

import re

_NON_DIGITS = re.compile(r"\D+")
_PHONE_QUERY = re.compile(r"^[\d\s()+\-.]+$")
_WHITESPACE = re.compile(r"\s+")
MIN_PHONE_DIGITS = 3


def normalize_text(text: str) -> str:
    """Lower-case (Unicode-aware), fold ё to е and collapse white space."""
    text = (text or "").lower().replace("ё", "е")
    return _WHITESPACE.sub(" ", text).strip()


def phone_digits(phone: str) -> str:
    """Only the digits of a phone number, so any formatting matches."""
    return _NON_DIGITS.sub("", phone or "")


def search_document(*parts: str, phone: str = "") -> str:
    """The text stored in a row's `search_text` column."""
    document = " ".join(normalize_text(part) for part in parts if part)
    digits = phone_digits(phone)
    if digits:
        document = f"{document} {digits}"
        # A Russian number written with the trunk prefix 8 is the same as +7.
        if len(digits) == 11 and digits[0] in "78":
            document = f"{document} {'8' if digits[0] == '7' else '7'}{digits[1:]}"
    return document.strip()


def search_terms(query: str) -> list[str]:
    """Split a user's query into normalised terms; every term must match.

    A query that looks like a phone number becomes a single digits-only term, so
    `+7 (900) 123-45-67` and `9001234567` both match the stored digits.
    """
    query = (query or "").strip()
    if not query:
        return []
    if _PHONE_QUERY.match(query):
        digits = phone_digits(query)
        if len(digits) >= MIN_PHONE_DIGITS:
            return [digits]
    return [term for term in normalize_text(query).split(" ") if term]
