"""The import behaviour shared by the client and order resources: header matching, row validation as
the admin and the API validate, and bulk writes with history. One invalid row and nothing is written."""

import re
from collections import defaultdict

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from import_export import resources
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import Result, RowResult
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from crm.importexport.formats import ImportFileError
from crm.search import normalize_text

BATCH_SIZE = 1000  # rows per INSERT/UPDATE statement (SQLite splits further by its 999-parameter limit)
LOOKUP_CHUNK = 900  # values per `IN (...)` when prefetching existing rows
PREVIEW_ROWS = 100  # valid rows shown in the admin's preview; the counts cover every row
MAX_INVALID_ROWS_KEPT = 1000  # invalid rows listed (line and reason); the count covers them all
HISTORY_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}


def header_key(header) -> str:
    """Column names match ignoring case, spaces, `_`, `-`, `.`, `*` and ё/е."""
    return re.sub(r"[\s_\-.*]+", "", normalize_text(str(header or "")))


def chunks(values, size=LOOKUP_CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def history_copy_possible(model) -> bool:
    """Whether record_history() can copy the model's rows: its history table holds the tracked columns and
    simple-history's own, nothing else, and the database hands back the ids of inserted rows."""
    history_model = model.history.model
    columns = {field.column for field in history_model._meta.concrete_fields}
    tracked = {field.column for field in history_model.tracked_fields}
    return (
        connections[router.db_for_write(history_model)].features.can_return_rows_from_bulk_insert
        and columns == tracked | HISTORY_FIELDS
    )


def record_history(model, pks, *, history_type: str, user, reason: str) -> None:
    """The history rows of rows just written, copied by the database (INSERT … SELECT), chunk by chunk of ids:
    what simple-history's bulk_create_with_history() records, without a Python object per row."""
    history_model = model.history.model
    connection = connections[router.db_for_write(history_model)]
    quote = connection.ops.quote_name
    columns = [field.column for field in history_model.tracked_fields]
    date = connection.ops.adapt_datetimefield_value(timezone.now())
    user_id = user.pk if user is not None else None
    insert = (
        f"INSERT INTO {quote(history_model._meta.db_table)} "
        f"({', '.join(quote(column) for column in columns)}, history_date, history_change_reason, history_type, "
        f"history_user_id) SELECT {', '.join(quote(column) for column in columns)}, %s, %s, %s, %s "
        f"FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} IN "
    )
    with connection.cursor() as cursor:
        for chunk in chunks(pks):
            cursor.execute(insert + f"({', '.join(['%s'] * len(chunk))})", [date, reason, history_type, user_id, *chunk])


class ImportResult(Result):
    """import-export's result, lean for files of 100,000s of rows: the counts cover every row, but only the
    rows the preview shows (and any that failed) are kept, and the first MAX_INVALID_ROWS_KEPT invalid ones."""

    def valid_rows(self):
        # The admin's preview table: the first rows only; the counts above it cover every row.
        return [row for row in self.rows[:PREVIEW_ROWS] if row.import_type in RowResult.valid_import_types]

    def append_row_result(self, row_result):
        if len(self.rows) < PREVIEW_ROWS or row_result.errors:
            self.rows.append(row_result)

    def append_invalid_row(self, number, row, validation_error):
        if len(self.invalid_rows) < MAX_INVALID_ROWS_KEPT:
            super().append_invalid_row(number, row, validation_error)


class PrefetchedInstanceLoader(BaseInstanceLoader):
    """Existing rows come from the resource's prefetch (one query per LOOKUP_CHUNK values), not a query per row."""

    def get_instance(self, row):
        return self.resource.existing_instance(row)


class BulkImportResource(resources.ModelResource):
    #: model fields written by bulk_update() for changed rows
    update_fields: tuple[str, ...] = ()
    #: fields compared to tell an unchanged row
    snapshot_fields: tuple[str, ...] = ()
    #: model fields full_clean() must not check (already resolved without a query per row)
    clean_exclude: tuple[str, ...] = ()
    #: fields search_text is built from (Client/Order.normalize_fields)
    search_fields: tuple[str, ...] = ()
    #: extra accepted spellings of column names: {resource field name: (alias, ...)}
    extra_aliases: dict[str, tuple[str, ...]] = {}

    def __init__(self, *, progress=None, **kwargs):
        self._import_fields = None
        super().__init__(**kwargs)
        self.progress = progress
        self._reset_import_state()

    def _reset_import_state(self):
        self.history_user = None
        self.change_reason = ""
        self.line_numbers = None
        self.current_line = None
        self.current_instance = None
        self.original_values = None
        self.invalid_seen = False
        self.seen_keys = {}
        self.import_time = timezone.now()

    @classmethod
    def get_result_class(cls):
        return ImportResult

    # -- columns -----------------------------------------------------------
    def get_import_fields(self):
        # import-export rebuilds this list for every row (3% of a large import); the fields never change.
        if self._import_fields is None:
            self._import_fields = super().get_import_fields()
        return self._import_fields

    def column_aliases(self) -> dict[str, str]:
        model_fields = {field.name: field for field in self._meta.model._meta.fields}
        aliases = {}
        for name, field in self.fields.items():
            names = [field.column_name, name, *self.extra_aliases.get(name, ())]
            if name in model_fields:
                for language in ("en", "ru"):
                    with translation.override(language):
                        names.append(str(model_fields[name].verbose_name))
            for alias in names:
                aliases.setdefault(header_key(alias), field.column_name)
        return aliases

    def missing_columns_error(self, headers: list[str]) -> str | None:
        """A message when a column the import cannot do without is missing."""
        return None

    def prepare_headers(self, dataset) -> None:
        """Rename the file's headers to our column names; refuse files lacking the key columns."""
        aliases = self.column_aliases()
        headers = []
        for header in dataset.headers:
            column = aliases.get(header_key(header), header)
            if column and column in headers:
                raise ImportFileError(_("The column “%(column)s” appears twice.") % {"column": column})
            headers.append(column)
        known = set(aliases.values())
        if not known.intersection(headers):
            raise ImportFileError(
                _("None of the columns is known. Expected: %(columns)s.")
                % {"columns": ", ".join(field.column_name for field in self.get_import_fields())}
            )
        error = self.missing_columns_error(headers)
        if error:
            raise ImportFileError(error)
        dataset.headers = headers

    # -- the import run ------------------------------------------------------
    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None,
                    collect_failed_rows=False, rollback_on_validation_errors=False, **kwargs):
        # All or nothing, whoever calls: one invalid row rolls the whole file back.
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )

    def import_data_inner(self, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs):
        try:
            self.prepare_headers(dataset)
        except ImportFileError as error:
            result = self.get_result_class()()
            result.total_rows = len(dataset)
            result.append_base_error(self.get_error_result_class()(error))
            return result
        result = super().import_data_inner(
            dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
        )
        # import-export numbers data rows from 1; people read the line of the file (the header is line 1).
        for row in [*result.invalid_rows, *result.error_rows]:
            row.number = self.line_of(row.number)
        return result

    def line_of(self, row_number: int) -> int:
        if self.line_numbers and row_number <= len(self.line_numbers):
            return self.line_numbers[row_number - 1]
        return row_number + 1

    def before_import(self, dataset, **kwargs):
        self._reset_import_state()
        user = kwargs.get("user")
        self.history_user = user if getattr(user, "is_authenticated", False) else None
        file_name = kwargs.get("file_name")
        reason = _("Imported from %(file)s") % {"file": file_name} if file_name else _("Imported")
        self.change_reason = reason[:100]
        self.line_numbers = getattr(dataset, "line_numbers", None)
        self.prefetch(dataset)

    def prefetch(self, dataset) -> None:
        raise NotImplementedError

    def existing_instance(self, row):
        raise NotImplementedError

    def after_import(self, dataset, result, **kwargs):
        # No sequence reset (ModelResource's default): we never insert explicit ids, and resetting a
        # sequence while other requests insert could hand out an id twice.
        result.notes = self.import_notes()

    def import_notes(self) -> list[str]:
        """What people should know about how the file's rows were read (shown beside the counts)."""
        return []

    def before_import_row(self, row, **kwargs):
        self.current_line = self.line_of(kwargs["row_number"])

    def after_init_instance(self, instance, new, row, **kwargs):
        self.current_instance = instance
        self.original_values = None if new else self.snapshot(instance)

    def snapshot(self, instance) -> tuple:
        return tuple(getattr(instance, name) for name in self.snapshot_fields)

    def first_line_with(self, key) -> int | None:
        """The earlier line of this file holding the same key, if any (and remember this one)."""
        first = self.seen_keys.setdefault(key, self.current_line)
        return None if first == self.current_line else first

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        errors.update(self.row_errors(instance, row))
        if errors:
            raise ValidationError(errors)

    def row_errors(self, instance, row) -> dict:
        """Rules spanning rows (duplicates within the file); {field or column: message}."""
        return {}

    def normalize(self, instance) -> None:
        """The model's own normalisation, once per row (validation, comparison and saving all need it)."""
        if getattr(instance, "_import_normalized", False):
            return
        instance.normalize_fields()
        instance._import_normalized = True

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or self.original_values is None:
            return False
        self.normalize(instance)
        current = self.snapshot(instance)
        # Remembered so bulk_update() writes only the changed columns (far cheaper than all of them).
        instance.import_changed_fields = {
            name for name, old, new in zip(self.snapshot_fields, self.original_values, current) if old != new
        }
        return not instance.import_changed_fields

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        self.normalize(instance)
        try:
            # The same single-row validation as the admin and the API (crm/services.py); constraints and
            # uniqueness are not checked here because that would cost a query per row.
            instance.full_clean(
                exclude=[*errors, *self.clean_exclude], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            self.invalid_seen = True
            columns = {field.attribute: field.column_name for field in self.fields.values() if field.attribute}
            raise ValidationError(
                {key if key == NON_FIELD_ERRORS else columns.get(key, key): value for key, value in errors.items()}
            )

    def before_save_instance(self, instance, row, **kwargs):
        self.normalize(instance)
        if instance.pk:
            instance.updated_at = self.import_time  # bulk_update() skips auto_now

    def import_row(self, row, instance_loader, **kwargs):
        row_result = super().import_row(row, instance_loader, **kwargs)
        if self.progress:
            self.progress(1)
        return row_result

    def after_import_row(self, row, row_result, **kwargs):
        if row_result.import_type in RowResult.valid_import_types and kwargs.get("row_number", 0) <= PREVIEW_ROWS:
            row_result.diff = [self.export_field(field, self.current_instance) for field in self.get_import_fields()]

    # -- bulk writes with history --------------------------------------------
    def _write(self, write, result, raise_errors):
        try:
            with transaction.atomic(using=self.get_db_connection_name()):
                write()
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        instances, self.create_instances = self.create_instances, []
        # A preview writes nothing; nor does a run that already has an invalid row (it will roll back).
        if not instances or dry_run or self.invalid_seen:
            return
        model = self._meta.model

        def write():
            if not history_copy_possible(model):
                bulk_create_with_history(instances, model, batch_size=BATCH_SIZE, default_user=self.history_user,
                                         default_change_reason=self.change_reason)
                return
            model._default_manager.bulk_create(instances, batch_size=BATCH_SIZE)
            record_history(model, [instance.pk for instance in instances], history_type="+",
                           user=self.history_user, reason=self.change_reason)

        self._write(write, result, raise_errors)

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        instances, self.update_instances = self.update_instances, []
        if not instances or dry_run or self.invalid_seen:
            return
        # One bulk_update() per set of changed columns: a file that only changes statuses writes only those.
        groups = defaultdict(list)
        for instance in instances:
            changed = getattr(instance, "import_changed_fields", None) or self.update_fields
            names = {"client" if name == "client_id" else name for name in changed} | {"updated_at", "version"}
            # The row's version moves on (the admin's stale-form check), counted by the database itself.
            instance.version = F("version") + 1
            if names & set(self.search_fields):
                names.add("search_text")
            groups[tuple(sorted(names))].append(instance)

        model = self._meta.model

        def write():
            for names, group in groups.items():
                if not history_copy_possible(model):
                    bulk_update_with_history(group, model, list(names), batch_size=BATCH_SIZE,
                                             default_user=self.history_user, default_change_reason=self.change_reason)
                    continue
                model._default_manager.bulk_update(group, list(names), batch_size=BATCH_SIZE)
                record_history(model, [instance.pk for instance in group], history_type="~",
                               user=self.history_user, reason=self.change_reason)

        self._write(write, result, raise_errors)

    def get_bulk_update_fields(self):
        return list(self.update_fields)
