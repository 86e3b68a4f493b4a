"""One small view per documented operation: input parsed, a service or selector called, output shaped."""

import contextlib
import functools

from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from api import schema
from api.errors import LoginLockedOut
from api.permissions import HasModelPermission
from api.serializers import (
    PAGE_SIZE,
    ClientInputSerializer,
    ClientListInputSerializer,
    OrderEditSerializer,
    OrderInputSerializer,
    OrderListInputSerializer,
    ReportInputSerializer,
    ReportListSerializer,
    client_rows,
    order_data,
    order_list_data,
    order_rows,
)
from api.throttling import TokenRateThrottle
from crm import selectors, services
from crm.paging import page_rows
from reports import rendering
from reports import selectors as report_selectors
from reports import services as report_services


class AlwaysJson(DefaultContentNegotiation):
    """Answer JSON whatever the Accept header says, so no client ever gets a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _success(obj=None) -> Response:
    return Response({"success": True} if obj is None else {"success": True, "id": obj.pk})


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@contextlib.contextmanager
def _gone_is_404():
    """A row deleted between the view's read and the service's locked re-read is a 404, not a 500."""
    try:
        yield
    except ObjectDoesNotExist:
        raise Http404


def _list_params(request):
    """List parameters: the body of a POST (the query string when the body is empty), or a GET's query."""
    if request.method == "POST" and request.data:
        return request.data
    return request.query_params


@functools.cache
def _list_defaults(serializer_class) -> dict:
    return _validated(serializer_class, {})


def _list_input(serializer_class, request) -> dict:
    """The validated list parameters; a request without any (the mobile app's first page) gets the
    defaults without building a serializer."""
    params = _list_params(request)
    if not params:
        return dict(_list_defaults(serializer_class))
    return _validated(serializer_class, params)


def _page_key(view, params: dict) -> tuple:
    """What a list page's query depends on: the view and every one of its validated parameters."""
    return (type(view), *sorted(params.items()))


class PermissionCheckedView(APIView):
    """Authenticated, permission-checked, always JSON."""

    permission_classes = [IsAuthenticated, HasModelPermission]
    content_negotiation_class = AlwaysJson
    required_permission: str = ""


# ---------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------
class TokenObtainView(jwt_views.TokenObtainPairView):
    throttle_classes = [TokenRateThrottle]
    content_negotiation_class = AlwaysJson

    @schema.token_obtain
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except AuthenticationFailed:
            # django-axes flags the request when this user name / address is locked out.
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut()
            raise
        # As an admin login does: django-axes forgets the failures, last_login is updated.
        user_logged_in.send(sender=type(serializer.user), request=request, user=serializer.user)
        tokens = serializer.validated_data
        return Response({"access": tokens["access"], "refresh": tokens["refresh"]})


class TokenRefreshView(jwt_views.TokenRefreshView):
    throttle_classes = [TokenRateThrottle]
    content_negotiation_class = AlwaysJson

    @schema.token_refresh
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------
class ClientAddView(PermissionCheckedView):
    required_permission = "crm.add_client"

    @schema.client_add
    def post(self, request):
        client = services.client_create(**_validated(ClientInputSerializer, request.data))
        return _success(client)


class ClientDetailView(PermissionCheckedView):
    required_permission = "crm.view_client"

    @schema.client_get
    def get(self, request, id):
        client = get_object_or_404(client_rows(selectors.client_list(status="all")), pk=id)
        return Response({"client": client})

    @schema.client_get_post
    def post(self, request, id):
        return self.get(request, id)


class ClientListView(PermissionCheckedView):
    required_permission = "crm.view_client"

    @schema.client_list_get
    def get(self, request):
        params = _list_input(ClientListInputSerializer, request)

        def page():
            start = params["start_id"]
            clients = selectors.client_list(
                search=params["search"], status=params["status"], order_by=params["order_by"]
            )
            return client_rows(clients)[start:start + PAGE_SIZE]

        return Response({"clients": page_rows(_page_key(self, params), page)})

    @schema.client_list_post
    def post(self, request):
        return self.get(request)


class ClientEditView(PermissionCheckedView):
    required_permission = "crm.change_client"

    @schema.client_edit
    def post(self, request, id):
        client = get_object_or_404(selectors.client_list(status="all"), pk=id)
        fields = _validated(ClientInputSerializer, request.data, partial=True)
        # Only the fields the request sent are written, so a concurrent edit of another field survives.
        with _gone_is_404():
            services.client_update(client=client, **fields)
        return _success(client)


class ClientDeleteView(PermissionCheckedView):
    required_permission = "crm.delete_client"

    @schema.client_delete
    def delete(self, request, id):
        client = get_object_or_404(selectors.client_list(status="all"), pk=id)
        # The contract's delete archives: the client's orders are never lost.
        with _gone_is_404():
            services.client_archive(client=client)
        return _success()


# ---------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------
class OrderAddView(PermissionCheckedView):
    required_permission = "crm.add_order"

    @schema.order_add
    def post(self, request):
        order = services.order_create(**_validated(OrderInputSerializer, request.data))
        return _success(order)


class OrderDetailView(PermissionCheckedView):
    required_permission = "crm.view_order"

    @schema.order_get
    def get(self, request, id):
        row = get_object_or_404(order_rows(selectors.order_list()), pk=id)
        return Response(order_data(row))

    @schema.order_get_post
    def post(self, request, id):
        return self.get(request, id)


class OrderListView(PermissionCheckedView):
    required_permission = "crm.view_order"

    @schema.order_list_get
    def get(self, request):
        params = _list_input(OrderListInputSerializer, request)

        def page():
            start = params["start_id"]
            orders = selectors.order_list(
                search=params["search"], status=params["status"], order_by=params["order_by"],
                client_id=params["client_id"],
            )
            return order_rows(orders)[start:start + PAGE_SIZE]

        return Response(order_list_data(page_rows(_page_key(self, params), page)))

    @schema.order_list_post
    def post(self, request):
        return self.get(request)


class OrderEditView(PermissionCheckedView):
    required_permission = "crm.change_order"

    @schema.order_edit
    def post(self, request, id):
        order = get_object_or_404(selectors.order_list(), pk=id)
        fields = _validated(OrderEditSerializer, request.data, partial=True)
        with _gone_is_404():
            services.order_update(order=order, **fields)
        return _success(order)


class OrderDeleteView(PermissionCheckedView):
    required_permission = "crm.delete_order"

    @schema.order_delete
    def delete(self, request, id):
        order = get_object_or_404(selectors.order_list(), pk=id)
        services.order_delete(order=order)
        return _success()


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------
class ReportNewView(PermissionCheckedView):
    required_permission = "reports.add_report"

    @schema.report_new
    def post(self, request):
        period = _validated(ReportInputSerializer, request.data)["period"]
        report = report_services.report_generate(period=period, user=request.user)
        return _success(report)


class ReportListView(PermissionCheckedView):
    required_permission = "reports.view_report"

    @schema.report_list
    def get(self, request):
        return Response(ReportListSerializer({"reports": report_selectors.report_list()}).data)

    @schema.report_list_post
    def post(self, request):
        return self.get(request)


class ReportDownloadView(PermissionCheckedView):
    required_permission = "reports.view_report"

    @schema.report_download
    def get(self, request, id):
        report = get_object_or_404(report_selectors.report_list(), pk=id)
        response = HttpResponse(rendering.report_text(report), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{rendering.report_filename(report)}"'
        return response
