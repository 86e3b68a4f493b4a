"""Import/export wired into the client and order admins (django-import-export with unfold's forms).

The export works on the list's current search and filters; imports are previewed, and nothing is
written while a row is invalid. CSV exports stream, a chunk of rows at a time; XLSX and JSON are built
whole in memory by import-export, which is fine below EXPORT_BACKGROUND_ROWS: a longer list, in any format,
is written row by row by a background job (crm/admin/exportjobs.py) and downloaded from the job's page.

Between the preview and the confirmation the upload waits in crm/importexport/uploads.py, reachable only
through the signed token of the confirmation form, by the user who uploaded it (not import-export's temp
storage, whose confirmation names any file of the temp directory).

A file of more than IMPORT_BACKGROUND_ROWS rows is not previewed in the request (that would take seconds to
minutes): the upload only counts its rows and checks its columns, and it asks to confirm an import in the
background (crm/jobs/), which checks every row before writing anything, all or nothing as here; the job's page
follows the progress and then shows the counts, or every invalid row with its line and reason.
"""

import tablib
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from import_export.admin import ImportExportMixin
from import_export.forms import ConfirmImportForm
from import_export.signals import post_export
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from crm.admin.exportjobs import export_in_background, exceeds_background_threshold
from crm.importexport.exports import csv_download
from crm.importexport.formats import (
    FORMATS, CsvFormat, ImportFileError, count_rows, export_file_name, export_options, format_name,
)
from crm.importexport.limits import ImportLimits
from crm.importexport.resources import ClientResource, OrderResource
from crm.importexport.results import result_counts, result_failed, result_notes, result_problems
from crm.importexport.uploads import UploadError, claim_upload, save_upload, verify_token
from crm.jobs.models import Job
from crm.jobs.selectors import job_url
from crm.jobs.services import job_create

MAX_PROBLEMS_IN_MESSAGE = 20


def invalid_confirmation() -> str:
    return _("This import confirmation is not valid; upload the file again.")


class LimitedImportForm(ImportForm):
    """The upload form; a file over IMPORT_MAX_FILE_MB is refused before anything reads it."""

    def clean_import_file(self):
        import_file = self.cleaned_data["import_file"]
        try:
            ImportLimits.from_settings().check_size(import_file.size)
        except ImportFileError as error:
            raise ValidationError(str(error)) from None
        return import_file


class SignedConfirmImportForm(ConfirmImportForm):
    """The confirmation of a preview: its token must be valid for this user and admin, and the other
    hidden fields what the token says."""

    def __init__(self, *args, user=None, model=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.model = model

    def clean_import_file_name(self):
        return self.cleaned_data["import_file_name"]  # a token, never a path

    def clean(self):
        cleaned = super().clean()
        token = cleaned.get("import_file_name")
        if not token or self.errors:
            raise ValidationError(invalid_confirmation())
        try:
            upload = verify_token(token, user=self.user, model=self.model)
        except UploadError as error:
            raise ValidationError(str(error)) from None
        if (cleaned.get("format"), cleaned.get("resource") or "") != (upload.format, upload.resource):
            raise ValidationError(invalid_confirmation())
        cleaned["upload"] = upload
        cleaned["original_file_name"] = upload.original_name
        return cleaned


def _index(value: str, count: int) -> int | None:
    """A position posted by a form, if it is one of `count`."""
    return int(value) if value.isdecimal() and int(value) < count else None


class _UploadInMemory:
    """What import-export's preview reads the upload from; it is stored only if the preview is confirmable."""

    name = None

    def __init__(self, data: bytes):
        self.data = data

    def read(self):
        return self.data


class ImportExportAdminMixin(ImportExportMixin):
    import_form_class = LimitedImportForm
    confirm_form_class = SignedConfirmImportForm
    export_form_class = ExportForm
    # Our own CSV/XLSX/JSON: Russian Excel's `;` and Windows-1251, safe formula escaping.
    import_formats = FORMATS
    export_formats = FORMATS

    def import_action(self, request, **kwargs):
        if request.method == "POST" and request.FILES:
            response = self.confirm_large_import(request)
            if response is not None:
                return response
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        result = context.get("result")
        if result is not None:
            file_errors = [error.error for error in result.base_errors if isinstance(error.error, ImportFileError)]
            if file_errors:
                # A file-wide problem (encoding, columns) belongs next to the file field, without a traceback.
                for error in file_errors:
                    context["form"].add_error("import_file", str(error))
                context["result"] = None
            else:
                messages.info(request, self.preview_message(result))
        return response

    def confirm_large_import(self, request):
        """A file of more than IMPORT_BACKGROUND_ROWS rows is not previewed here: its rows are only counted (and
        its columns checked), it is stored, and a page asks to confirm its import in the background, where it is
        checked whole before anything is written. None for a small file or a refused one: the preview says why."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        import_form = self.create_import_form(request)
        if not import_form.is_valid():
            return None
        format_index = _index(str(import_form.cleaned_data["format"]), len(self.get_import_formats()))
        if format_index is None:
            return None
        import_file = import_form.cleaned_data["import_file"]
        data = b"".join(import_file.chunks())
        try:
            headers, rows = count_rows(
                self.get_import_formats()[format_index](), data, enough=settings.IMPORT_BACKGROUND_ROWS
            )
            if rows > settings.IMPORT_BACKGROUND_ROWS:
                resource_class = self.choose_import_resource_class(import_form, request)
                resource_class().prepare_headers(tablib.Dataset(headers=headers))
        except ImportFileError:
            return None  # the usual path reads the file again and puts the reason next to the file field
        if rows <= settings.IMPORT_BACKGROUND_ROWS:
            return None
        resource = str(import_form.cleaned_data.get("resource") or "")
        token = save_upload(
            user=request.user, model=self.model._meta.label_lower, data=data, format=str(format_index),
            resource=resource, original_name=import_file.name, rows=rows,
        )
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "opts": opts,
            "title": _("Import in the background"),
            "file_name": import_file.name,
            "rows": rows,
            "threshold": settings.IMPORT_BACKGROUND_ROWS,
            "confirm_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_process_import"),
            "import_url": self.import_url(),
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            "fields": {"import_file_name": token, "original_file_name": import_file.name,
                       "format": str(format_index), "resource": resource},
        }
        return TemplateResponse(request, "crm/importexport/import_background.html", context)

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportFileError):
            form.add_error("import_file", str(e))  # our own wording (limits, encoding), not a class name
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def write_to_tmp_storage(self, import_file, input_format):
        return _UploadInMemory(b"".join(import_file.chunks()))

    def get_confirm_form_kwargs(self, request, import_form=None):
        kwargs = super().get_confirm_form_kwargs(request, import_form)
        kwargs.update(user=request.user, model=self.model._meta.label_lower)
        return kwargs

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            # Only now, with a preview to confirm, is the upload written down.
            import_file = import_form.cleaned_data["import_file"]
            initial["import_file_name"] = save_upload(
                user=request.user,
                model=self.model._meta.label_lower,
                data=b"".join(import_file.chunks()),
                format=initial["format"],
                resource=initial["resource"],
                original_name=import_file.name,
            )
        return initial

    @method_decorator(require_POST)
    def process_import(self, request, **kwargs):
        """The confirmation: import the upload its signed token names, or say why not (never a 500)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        confirm_form = self.create_confirm_form(request)
        if not confirm_form.is_valid():  # an empty POST leaves the form unbound, without errors
            errors = confirm_form.non_field_errors() if confirm_form.is_bound else None
            return self.refuse_confirmation(request, errors[0] if errors else invalid_confirmation())
        upload = confirm_form.cleaned_data["upload"]
        formats = self.get_import_formats()
        format_index = _index(upload.format, len(formats))
        resource_index = _index(upload.resource or "0", len(self.get_import_resource_classes(request)))
        if format_index is None or resource_index is None:  # the admin changed since the preview
            return self.refuse_confirmation(request, invalid_confirmation())
        format_class = formats[format_index]
        try:
            data = claim_upload(upload)
            if upload.rows is not None:  # counted at the upload, which offered the import in the background
                rows = upload.rows
            else:
                _headers, rows = count_rows(format_class(), data, enough=settings.IMPORT_BACKGROUND_ROWS)
            if rows > settings.IMPORT_BACKGROUND_ROWS:  # not read here: the job reads and checks it
                return self.import_in_background(request, upload, format_class, data, rows)
            dataset = format_class().create_dataset(data)
        except (UploadError, ImportFileError) as error:
            return self.refuse_confirmation(request, str(error))
        result = self.process_dataset(dataset, confirm_form, request, **kwargs)
        return self.process_result(result, request)

    def import_in_background(self, request, upload, format_class, data: bytes, rows: int):
        """A large file is imported by a worker (all or nothing, as here); the user follows it on the job page."""
        job = job_create(
            kind=self.import_job_kind,
            owner=request.user,
            data=data,
            file_name=upload.original_name,
            params={"format": format_name(format_class), "language": get_language()},
            total=rows,
        )
        messages.info(request, _("The file is being imported in the background; this page shows how far it has got."))
        return HttpResponseRedirect(job_url(job))

    def refuse_confirmation(self, request, message: str):
        messages.error(request, message)
        return HttpResponseRedirect(self.import_url())

    def import_url(self) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_import", current_app=self.admin_site.name)

    @staticmethod
    def preview_message(result) -> str:
        message = _(
            "Preview of %(total)s rows: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, %(invalid)s invalid."
        ) % result_counts(result)
        notes = "".join(" " + note for note in result_notes(result))
        if result_failed(result):
            return message + notes + " " + _("Nothing will be imported until every invalid row is fixed.")
        return message + notes + " " + _("Nothing has been written yet: confirm to import.")

    def process_result(self, result, request):
        if result_failed(result):
            # The rows changed between preview and confirmation; the transaction was rolled back.
            problems = result_problems(result)
            shown = "; ".join(problems[:MAX_PROBLEMS_IN_MESSAGE])
            if len(problems) > MAX_PROBLEMS_IN_MESSAGE:
                shown += " …"
            messages.error(request, _("Nothing was imported. %(problems)s") % {"problems": shown})
            return HttpResponseRedirect(self.import_url())
        return super().process_result(result, request)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        # How our formats write cells (import-export only keeps native types for its own XLSX class).
        if not self.has_export_permission(request):
            raise PermissionDenied
        data = self.get_data_for_export(request, queryset, **export_options(file_format), **kwargs)
        return file_format.export_data(data)

    def get_export_filename(self, request, queryset, file_format):
        return export_file_name(self.model, file_format)

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        """A CSV export streams (same file as import-export would build); other formats are built whole.
        A list longer than EXPORT_BACKGROUND_ROWS is exported by a background job instead."""
        if exceeds_background_threshold(queryset):
            return export_in_background(self, request, queryset, file_format)
        if not isinstance(file_format, CsvFormat):
            response = super()._do_file_export(file_format, request, queryset, export_form=export_form)
        else:
            response = self._stream_csv_export(file_format, request, queryset, export_form)
        # A name in Cyrillic needs RFC 6266's filename*= (import-export writes filename="…", which Django would
        # MIME-encode into a name no browser decodes).
        response["Content-Disposition"] = content_disposition_header(
            True, self.get_export_filename(request, queryset, file_format)
        )
        return response

    def _stream_csv_export(self, file_format, request, queryset, export_form):
        if not self.has_export_permission(request):
            raise PermissionDenied
        # The same arguments import-export's get_data_for_export() hands to the resource and its widgets.
        options = {**export_options(file_format), "export_form": export_form, "encoding": self.to_encoding}
        resource_class = self.choose_export_resource_class(export_form, request)
        resource = resource_class(**self.get_export_resource_kwargs(request, **options))
        export_fields = self.get_export_resource_fields_from_form(export_form)
        content = csv_download(
            resource, queryset, selected_fields=export_fields, export_fields=export_fields, **options
        )
        response = StreamingHttpResponse(content, content_type=file_format.get_content_type())
        post_export.send(sender=None, model=self.model)
        return response


class ClientImportExportMixin(ImportExportAdminMixin):
    resource_classes = [ClientResource]
    import_job_kind = Job.Kind.IMPORT_CLIENTS


class OrderImportExportMixin(ImportExportAdminMixin):
    resource_classes = [OrderResource]
    import_job_kind = Job.Kind.IMPORT_ORDERS
