"""Import/export wired into the client and order admins (django-import-export with unfold's forms).

The export works on the list's current search and filters; imports are previewed, and nothing is
written while a row is invalid. CSV exports stream, a chunk of rows at a time; XLSX and JSON are built
whole in memory by import-export, so large exports are better made as CSV or with the export_* commands.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from import_export.admin import ImportExportMixin
from import_export.signals import post_export
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from crm.importexport.exports import csv_download
from crm.importexport.formats import FORMATS, CsvFormat, ImportFileError, XlsxFormat
from crm.importexport.resources import ClientResource, OrderResource
from crm.importexport.results import result_counts, result_failed, result_problems

MAX_PROBLEMS_IN_MESSAGE = 20


class ImportExportAdminMixin(ImportExportMixin):
    import_form_class = ImportForm
    export_form_class = ExportForm
    # Our own CSV/XLSX/JSON: Russian Excel's `;` and Windows-1251, safe formula escaping.
    import_formats = FORMATS
    export_formats = FORMATS

    def import_action(self, request, **kwargs):
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

    @staticmethod
    def preview_message(result) -> str:
        message = _(
            "Preview of %(total)s rows: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, %(invalid)s invalid."
        ) % result_counts(result)
        if result_failed(result):
            return message + " " + _("Nothing will be imported until every invalid row is fixed.")
        return message + " " + _("Nothing has been written yet: confirm to import.")

    def process_result(self, result, request):
        if result_failed(result):
            # The rows changed between preview and confirmation; the transaction was rolled back.
            problems = result_problems(result)
            shown = "; ".join(problems[:MAX_PROBLEMS_IN_MESSAGE])
            if len(problems) > MAX_PROBLEMS_IN_MESSAGE:
                shown += " …"
            messages.error(request, _("Nothing was imported. %(problems)s") % {"problems": shown})
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_import", current_app=self.admin_site.name)
            )
        return super().process_result(result, request)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        # import-export only keeps native numbers and dates for its own XLSX class; ours is a subclass.
        if not self.has_export_permission(request):
            raise PermissionDenied
        data = self.get_data_for_export(
            request, queryset, force_native_type=isinstance(file_format, XlsxFormat), **kwargs
        )
        return file_format.export_data(data)

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        """A CSV export streams (same file as import-export would build); other formats are built whole."""
        if not isinstance(file_format, CsvFormat):
            return super()._do_file_export(file_format, request, queryset, export_form=export_form)
        if not self.has_export_permission(request):
            raise PermissionDenied
        # The same arguments import-export's get_data_for_export() hands to the resource and its widgets.
        options = {"force_native_type": False, "export_form": export_form, "encoding": self.to_encoding}
        resource_class = self.choose_export_resource_class(export_form, request)
        resource = resource_class(**self.get_export_resource_kwargs(request, **options))
        export_fields = self.get_export_resource_fields_from_form(export_form)
        content = csv_download(
            resource, queryset, selected_fields=export_fields, export_fields=export_fields, **options
        )
        response = StreamingHttpResponse(content, content_type=file_format.get_content_type())
        response["Content-Disposition"] = 'attachment; filename="{}"'.format(
            self.get_export_filename(request, queryset, file_format)
        )
        post_export.send(sender=None, model=self.model)
        return response


class ClientImportExportMixin(ImportExportAdminMixin):
    resource_classes = [ClientResource]


class OrderImportExportMixin(ImportExportAdminMixin):
    resource_classes = [OrderResource]
