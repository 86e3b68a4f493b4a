"""The command palette (Ctrl+K): clients and orders found by the domain's search, not only menu items.

unfold calls `command_search` (UNFOLD["COMMAND"]["search_callback"]) with the typed text and lists what it returns
after the matching menu items; each result links to the object's page.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext as _
from unfold.dataclasses import SearchResult

from crm import selectors
from crm.models import Client, Order, format_phone
from crm.money import format_money


def _may_view(request, model) -> bool:
    model_admin = admin.site.get_model_admin(model)
    return model_admin.has_view_or_change_permission(request)


def _client_result(client: Client) -> SearchResult:
    details = [_("Client"), client.email, format_phone(client.mobile_phone)]
    if client.status == Client.Status.ARCHIVED:
        details.append(client.get_status_display())
    return SearchResult(
        title=client.full_name_reversed,
        description=" · ".join(detail for detail in details if detail),
        link=reverse("admin:crm_client_change", args=[client.pk]),
        icon="person",
    )


def _order_result(order: Order) -> SearchResult:
    return SearchResult(
        title=str(order),
        description=" · ".join(
            (order.client.full_name_reversed, format_money(order.total_price), order.get_status_display())
        ),
        link=reverse("admin:crm_order_change", args=[order.pk]),
        icon="shopping_cart",
    )


def command_search(request, search_term: str) -> list[SearchResult]:
    """Up to ten clients and ten orders matching `search_term`, each only for a user who may view them."""
    results = []
    if _may_view(request, Client):
        results += [_client_result(client) for client in selectors.palette_clients(search_term)]
    if _may_view(request, Order):
        results += [_order_result(order) for order in selectors.palette_orders(search_term)]
    return results
