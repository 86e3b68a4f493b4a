"""Cyrillic-aware search normalisation shared by every database backend.

SQLite folds only ASCII case in LIKE/lower(), so we never rely on the database to fold
case: each searchable row keeps a pre-normalised `search_text` column, and queries are
normalised the same way in Python before a `contains` lookup, answered from a trigram
index where there is one (SearchContains, at the end).
"""

import re

from django.db.models.lookups import Contains

_NON_DIGITS = re.compile(r"\D+")
_PHONE_QUERY = re.compile(r"^[\d\s()+\-.]+$")
_WHITESPACE = re.compile(r"\s+")
MIN_PHONE_DIGITS = 3


def normalize_text(text: str) -> str:
    """Lower-case (Unicode-aware), fold ё to е and collapse white space.

    NUL counts as white space: PostgreSQL refuses it in a query and SQLite would cut the pattern short.
    """
    text = (text or "").lower().replace("ё", "е").replace("\x00", " ")
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


# ---------------------------------------------------------------------------
# Index-backed substring search (see migration crm/0004_search_indexes)
# ---------------------------------------------------------------------------
# Tables whose `search_text` has a trigram index; SQLite keeps it in an FTS5 table named
# `<table>_search`. Trigrams cannot index a term shorter than three characters.
SEARCH_INDEXED_TABLES = ("crm_client", "crm_order")
MIN_INDEXED_TERM_LENGTH = 3


def fts_phrase(term: str) -> str:
    """An FTS5 query matching `term` literally as a substring (quotes doubled inside a phrase)."""
    return '"{}"'.format(term.replace('"', '""'))


def fts_all_phrases(terms: list[str]) -> str:
    """An FTS5 query matching rows that hold every term as a substring (one column, so AND of phrases)."""
    return " AND ".join(fts_phrase(term) for term in terms)


class SearchContains(Contains):
    """`contains` on a normalised `search_text` column, answered from its trigram index.

    Same results as `contains`: on SQLite a term of three or more characters is looked up in the
    FTS5 trigram table (byte-exact, as the text is already normalised); shorter terms, and other
    databases, run the plain LIKE, which PostgreSQL serves from its pg_trgm GIN index. On PostgreSQL
    the LIKE comes with the same test again, priced at its real cost (`crm_search_position`,
    migration crm/0008), so the planner reads that index for a rare term instead of walking the
    id index through thousands of rows.
    """

    lookup_name = "search_contains"

    def as_sql(self, compiler, connection):
        return Contains(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        sql, params = self.as_sql(compiler, connection)
        if not isinstance(self.rhs, str) or self.lhs.target.model._meta.db_table not in SEARCH_INDEXED_TABLES:
            return sql, params
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        return f"({sql} AND crm_search_position({lhs_sql}, %s) IS NOT NULL)", [*params, *lhs_params, self.rhs]

    def fts_table(self, connection) -> str | None:
        """The FTS5 table that answers this lookup on `connection`, or None when it runs as a plain LIKE."""
        table = self.lhs.target.model._meta.db_table
        if (
            connection.vendor != "sqlite"
            or not isinstance(self.rhs, str)
            or len(self.rhs) < MIN_INDEXED_TERM_LENGTH
            or "\x00" in self.rhs  # FTS5 reads its query as a C string: NUL would end it early.
            or table not in SEARCH_INDEXED_TABLES
            or self.lhs.target.name != "search_text"
        ):
            return None
        return f"{table}_search"

    def as_sqlite(self, compiler, connection):
        fts_table = self.fts_table(connection)
        if fts_table is None:
            return self.as_sql(compiler, connection)
        fts = connection.ops.quote_name(fts_table)
        pk_column = compiler.quote_name_unless_alias(self.lhs.alias) + "." + connection.ops.quote_name(
            self.lhs.target.model._meta.pk.column
        )
        return f"{pk_column} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)", [fts_phrase(self.rhs)]
