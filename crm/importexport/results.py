"""What an import did, in words: the same wording in the admin and on the command line."""

from django.utils.translation import gettext as _
from import_export.results import RowResult


def result_counts(result) -> dict[str, int]:
    totals = result.totals
    return {
        "total": result.total_rows,
        "new": totals[RowResult.IMPORT_TYPE_NEW],
        "changed": totals[RowResult.IMPORT_TYPE_UPDATE],
        "unchanged": totals[RowResult.IMPORT_TYPE_SKIP],
        "invalid": totals[RowResult.IMPORT_TYPE_INVALID] + totals[RowResult.IMPORT_TYPE_ERROR],
    }


def result_summary(result) -> str:
    return _("%(total)s rows: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, %(invalid)s invalid.") % (
        result_counts(result)
    )


def result_notes(result) -> list[str]:
    """What the resource noted about the file beside the counts (rows it could not match, say)."""
    return list(getattr(result, "notes", None) or [])


def invalid_row_reasons(invalid_row) -> list[str]:
    """'Column: message' for each problem of an invalid row."""
    reasons = []
    for column, messages in invalid_row.error_dict.items():
        for message in messages:
            reasons.append(str(message) if column == "__all__" else f"{column}: {message}")
    return reasons


def result_problems(result) -> list[str]:
    """One line per problem: file-level errors, then each invalid row with its line number."""
    problems = [str(error.error) for error in result.base_errors]
    for invalid_row in result.invalid_rows:
        for reason in invalid_row_reasons(invalid_row):
            problems.append(_("Line %(line)s: %(reason)s") % {"line": invalid_row.number, "reason": reason})
    for error_row in result.error_rows:
        for error in error_row.errors:
            problems.append(_("Line %(line)s: %(reason)s") % {"line": error_row.number, "reason": error.error})
    return problems


def result_failed(result) -> bool:
    return result.has_errors() or result.has_validation_errors()
