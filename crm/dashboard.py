"""The admin index dashboard (filled in by the staff UI work)."""


def dashboard_callback(request, context):
    return context
