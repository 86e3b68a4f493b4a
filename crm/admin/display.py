"""Helpers shared by the staff admin pages: status badges, links, redirects, faster change lists."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from unfold.views import ChangeList

from crm import services
from crm.models import Client, Order

# Badge colours keyed by the status *value*, so they stay whatever language the labels are shown in.
STATUS_BADGE_COLOURS = {
    Order.Status.PENDING: "warning",
    Order.Status.COMPLETED: "success",
    Order.Status.CANCELLED: "danger",
    Client.Status.ACTIVE: "success",
    Client.Status.ARCHIVED: "info",
}


def status_badge(obj) -> tuple[str, str]:
    """(value, label) of an object's status: unfold picks the colour by the value and shows the label."""
    return obj.status, obj.get_status_display()


def admin_link(url_name: str, pk, text) -> str:
    """A link to an object's admin page."""
    return format_html('<a class="text-primary-600" href="{}">{}</a>', reverse(url_name, args=[pk]), text)


def confirmation_dialog(title, description, submit_text) -> dict:
    """The `dialog` of an unfold @action: a confirmation before the POST."""
    return {"title": title, "description": description, "form_submit_text": submit_text}


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def redirect(request, url: str) -> HttpResponse:
    """Leave an action for `url`; unfold's dialogs post through htmx, which follows HX-Redirect instead."""
    if request.headers.get("HX-Request"):
        return HttpResponse(headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


class CachedHeadersChangeList(ChangeList):
    """unfold rebuilds every column header (with its sorting links) for each row of the list;
    remembering the links makes 50 rows cost one set of headers, not fifty."""

    def _get_deterministic_ordering(self, ordering):
        ordering = super()._get_deterministic_ordering(ordering)
        # Ties are broken by -pk (Django's) or -id (the queryset's own order) whatever the direction of the
        # sorted column. With the id in the column's direction, the (column, id) indexes give the page in
        # order instead of every tie being sorted.
        if len(ordering) > 1 and ordering[-1] in ("-pk", "-id"):
            column = ordering[-2]
            descending = column.startswith("-") if isinstance(column, str) else getattr(column, "descending", True)
            ordering[-1] = "-pk" if descending else "pk"
        return ordering

    def get_ordering_field_columns(self):
        if not hasattr(self, "_ordering_field_columns"):
            self._ordering_field_columns = super().get_ordering_field_columns()
        return self._ordering_field_columns

    def get_query_string(self, new_params=None, remove=None):
        key = repr((sorted((new_params or {}).items()), list(remove or ())))
        cache = self.__dict__.setdefault("_query_strings", {})
        if key not in cache:
            cache[key] = super().get_query_string(new_params, remove)
        return cache[key]


class FastChangeListMixin:
    """Cheaper rendering of a long change list (the HTML, not the queries, is most of its time)."""

    # unfold's template asks for list_sections on every row; a missing attribute is an expensive miss.
    list_sections = ()

    def get_changelist(self, request, **kwargs):
        return CachedHeadersChangeList


class ReadOnlyAdminMixin:
    """A page of records nobody adds, edits or deletes through the admin (history, jobs)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PlainMessagesMixin:
    """Django's "The order “Order #301: Mouse” was added successfully." said as a person would: "Order No. 301
    added." The admin names its messages through added_message/changed_message/deleted_message."""

    def added_message(self, obj) -> str:
        raise NotImplementedError

    def changed_message(self, obj) -> str:
        raise NotImplementedError

    def deleted_message(self, obj_display: str, obj_id) -> str:
        raise NotImplementedError

    def _with_message(self, request, message, respond):
        request.crm_success_message = message
        try:
            return respond()
        finally:
            del request.crm_success_message

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if level == messages.SUCCESS and getattr(request, "crm_success_message", None):
            message = request.crm_success_message
        return super().message_user(request, message, level, *args, **kwargs)

    def response_add(self, request, obj, post_url_continue=None):
        return self._with_message(
            request, self.added_message(obj), lambda: super(PlainMessagesMixin, self).response_add(
                request, obj, post_url_continue)
        )

    def response_change(self, request, obj):
        return self._with_message(
            request, self.changed_message(obj), lambda: super(PlainMessagesMixin, self).response_change(request, obj)
        )

    def response_delete(self, request, obj_display, obj_id):
        return self._with_message(
            request, self.deleted_message(obj_display, obj_id),
            lambda: super(PlainMessagesMixin, self).response_delete(request, obj_display, obj_id),
        )


class VersionedForm(forms.ModelForm):
    """A change form that carries the row's version, and refuses to save over a newer row."""

    # The version the form was rendered from; rendered by the change_form_before_template below.
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["seen_version"].initial = self.instance.version

    def clean(self):
        cleaned_data = super().clean()
        seen_version = cleaned_data.get("seen_version")
        if self.instance.pk is not None and seen_version is not None:
            # Locks the row until the admin's transaction ends, so nobody writes between this check and the save.
            try:
                services.row_check_version(row=self.instance, expected_version=seen_version)
            except services.EditConflict as error:
                self.add_error(None, error)
        return cleaned_data


# Included inside the change form: the hidden version field lives in no fieldset.
VERSION_FIELD_TEMPLATE = "admin/crm/seen_version.html"


def save_through_services(obj, form, change, *, editable_fields, create, update) -> None:
    """save_model for the domain admins: the form's fields go to the create/update service."""
    fields = {name: form.cleaned_data[name] for name in editable_fields if name in form.cleaned_data}
    if change:
        update(obj, expected_version=form.cleaned_data.get("seen_version"), **fields)
        return
    created = create(**fields)
    # The admin goes on with `obj` (history, messages, redirect): make it the saved row.
    obj.pk = created.pk
    obj._state.adding = False
    obj.refresh_from_db()
