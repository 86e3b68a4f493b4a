"""Django model permissions, one codename per API view (view for reads, add/change/delete for writes)."""

from rest_framework.permissions import BasePermission


class HasModelPermission(BasePermission):
    """Allows the request when the user has the view's `required_permission` ("crm.view_client")."""

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(view.required_permission)
