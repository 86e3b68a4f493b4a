"""The documented API paths, one line each; anything else under /api/ is a JSON 404."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import errors, views

app_name = "api"

urlpatterns = [
    path("token/", views.TokenObtainView.as_view(), name="token_obtain_pair"),
    path("token/refresh/", views.TokenRefreshView.as_view(), name="token_refresh"),
    path("clients/add/", views.ClientAddView.as_view(), name="client_add"),
    path("clients/get/<int:id>/", views.ClientDetailView.as_view(), name="client_get"),
    path("clients/get/", views.ClientListView.as_view(), name="client_list"),
    path("clients/edit/<int:id>/", views.ClientEditView.as_view(), name="client_edit"),
    path("clients/delete/<int:id>/", views.ClientDeleteView.as_view(), name="client_delete"),
    path("orders/add/", views.OrderAddView.as_view(), name="order_add"),
    path("orders/get/<int:id>/", views.OrderDetailView.as_view(), name="order_get"),
    path("orders/get/", views.OrderListView.as_view(), name="order_list"),
    path("orders/edit/<int:id>/", views.OrderEditView.as_view(), name="order_edit"),
    path("orders/delete/<int:id>/", views.OrderDeleteView.as_view(), name="order_delete"),
    path("reports/new/", views.ReportNewView.as_view(), name="report_new"),
    path("reports/get/", views.ReportListView.as_view(), name="report_list"),
    path("reports/get/<int:id>/", views.ReportDownloadView.as_view(), name="report_download"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file (?script), so the page needs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # [\s\S] rather than ".": a path with a newline in it is still an unknown API path.
    re_path(r"^[\s\S]*$", errors.not_found),
]
