"""Import/export settings mixed into the client and order admins."""

from import_export.admin import ImportExportMixin
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from crm.resources import ClientResource, OrderResource


class ClientImportExportMixin(ImportExportMixin):
    resource_classes = [ClientResource]
    import_form_class = ImportForm
    export_form_class = ExportForm


class OrderImportExportMixin(ImportExportMixin):
    resource_classes = [OrderResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
