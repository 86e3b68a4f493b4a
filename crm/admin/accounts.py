"""Users and groups in unfold's styling, and the page a locked-out login gets."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.shortcuts import render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from api.errors import lockout_json_response
from crm.admin.guards import CheckedBulkActionsMixin

admin.site.unregister(User)
admin.site.unregister(Group)

# Staff grant rights on the CRM's own data; the internals of tokens, sessions and lockouts are not theirs to grant.
GRANTABLE_APPS = ("crm", "reports", "auth")
PERMISSION_ACTIONS = {
    "add": gettext_lazy("can add"),
    "change": gettext_lazy("can change"),
    "delete": gettext_lazy("can delete"),
    "view": gettext_lazy("can view"),
}


def permission_label(permission: Permission) -> str:
    """"Клиенты: can add" in the active language (the stored names are English: "Can add client")."""
    model = permission.content_type.model_class()
    action = PERMISSION_ACTIONS.get(permission.codename.split("_", 1)[0])
    if model is None or action is None:
        return permission.name
    return f"{capfirst(model._meta.verbose_name_plural)}: {action}"


class GrantablePermissionsMixin:
    """The permission pickers of users and groups: the CRM's own permissions, labelled in the active language."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in ("permissions", "user_permissions"):
            kwargs["queryset"] = Permission.objects.filter(
                content_type__app_label__in=GRANTABLE_APPS
            ).select_related("content_type")
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name in ("permissions", "user_permissions"):
            field.label_from_instance = permission_label
        return field


@admin.register(User)
class UserAdmin(GrantablePermissionsMixin, CheckedBulkActionsMixin, BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "first_name", "last_name", "email", "is_staff", "is_superuser", "is_active")


@admin.register(Group)
class GroupAdmin(GrantablePermissionsMixin, CheckedBulkActionsMixin, BaseGroupAdmin, ModelAdmin):
    pass


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' AXES_LOCKOUT_CALLABLE: the API's JSON 429 under /api/, otherwise an unfold-styled page."""
    if request.path.startswith("/api/"):
        return lockout_json_response(original_response)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed login attempts. The account is locked for %(minutes)s minutes; try again later "
        "or ask an administrator to unlock it."
    ) % {"minutes": minutes}
    context = {**admin.site.each_context(request), "title": _("Account locked"), "lockout_message": message}
    return render(request, "crm/lockout.html", context, status=429)
