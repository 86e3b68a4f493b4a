"""What the admin checks on the request itself, not only in its templates: permissions on POST, ids in addresses.

A button hidden from a user is no protection: a crafted POST reaches the view all the same.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import get_history_model_for_model
from unfold.forms import BaseDialogForm

from crm.admin.display import error_text


def object_pk(model: type[Model], object_id):
    """The primary key an admin address names, or None when it cannot be one ("abc", "1.5", " ")."""
    try:
        return model._meta.pk.to_python(unquote(str(object_id)))
    except (ValidationError, ValueError, TypeError):
        return None


def object_or_404(queryset: QuerySet, object_id):
    """The row an admin address names; a 404 when there is none, also for an id that is not a number."""
    pk = object_pk(queryset.model, object_id)
    if pk is None:
        raise Http404
    try:
        return queryset.get(pk=pk)
    except ObjectDoesNotExist:
        raise Http404


def object_dialog(rows: Callable[[], QuerySet], **dialog) -> dict:
    """An unfold action dialog about one row: a 404 already on the confirmation when the address names no row.

    The action then finds its row in `form.object`.
    """

    class ObjectDialogForm(BaseDialogForm):
        def __init__(self, request, object_id=None, *args, **kwargs):
            super().__init__(request, object_id, *args, **kwargs)
            self.object = object_or_404(rows(), object_id)

    return {**dialog, "form_class": ObjectDialogForm}


class CheckedBulkActionsMixin:
    """A bulk action the user is not offered is refused with a 403, not ignored with the list shown again."""

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST":
            chosen = {name for name in request.POST.getlist("action") if name}
            if chosen - set(self.get_actions(request)):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)


class GuardedHistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's admin with the checks its revert page lacks.

    Its history_form_view saves any valid POST from anyone who may *view* the history. Here a revert needs the
    change permission, and bringing a deleted row back needs the add permission too; an existing row is saved by
    save_model (the services), a deleted one by restore_from_history (each admin calls its services).
    """

    def has_revert_permission(self, request, obj=None, *, restoring: bool = False) -> bool:
        if getattr(settings, "SIMPLE_HISTORY_REVERT_DISABLED", False):
            return False
        return self.has_change_permission(request, obj) and (not restoring or self.has_add_permission(request))

    def revert_disabled(self, request, obj=None):
        # The button shows exactly when its POST would be accepted.
        restoring = obj is not None and self._is_deleted(obj)
        return not self.has_revert_permission(request, obj, restoring=restoring)

    def restore_from_history(self, request, record, form) -> Model:
        """Save a deleted row back under its old id, from its history record and the valid revert form."""
        raise PermissionDenied

    def history_view(self, request, object_id, extra_context=None):
        if object_pk(self.model, object_id) is None:
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        record = self._history_record(object_id, version_id)
        if request.method == "POST":
            restoring = self._is_deleted(record.instance)
            if not self.has_revert_permission(request, record.instance, restoring=restoring):
                raise PermissionDenied
            if restoring:
                response = self._restore(request, record)
                if response is not None:
                    return response
        # A GET, a revert of an existing row, or an invalid form: simple_history's view, which saves only a
        # valid form, through save_model.
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _is_deleted(self, obj) -> bool:
        return not self.model._default_manager.filter(pk=obj.pk).exists()

    def _history_record(self, object_id, version_id):
        history_model = get_history_model_for_model(self.model)
        pk, history_id = object_pk(self.model, object_id), object_pk(history_model, version_id)
        record = None
        if pk is not None and history_id is not None:
            record = history_model.objects.filter(**{self.model._meta.pk.attname: pk, "history_id": history_id}).first()
        if record is None:
            raise Http404
        return record

    def _restore(self, request, record) -> HttpResponse | None:
        obj = record.instance
        obj._state.adding = False  # as simple_history builds its form, so that both validate alike
        form = self.get_form(request, obj, change=True)(request.POST, request.FILES, instance=obj)
        if not form.is_valid():
            return None
        try:
            with transaction.atomic():
                restored = self.restore_from_history(request, record, form)
        except ValidationError as error:
            self.message_user(request, error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.path)
        self.log_addition(request, restored, [{"added": {}}])
        opts = self.model._meta
        self.message_user(
            request,
            _("%(name)s “%(object)s” was restored from its history.")
            % {"name": capfirst(opts.verbose_name), "object": restored},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[restored.pk]))
