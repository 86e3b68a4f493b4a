"""Users and groups in unfold's styling, and the page a locked-out login gets."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.shortcuts import render
from django.utils.translation import gettext as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from api.errors import lockout_json_response
from crm.admin.guards import CheckedBulkActionsMixin

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(CheckedBulkActionsMixin, BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "first_name", "last_name", "email", "is_staff", "is_superuser", "is_active")


@admin.register(Group)
class GroupAdmin(CheckedBulkActionsMixin, BaseGroupAdmin, ModelAdmin):
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
