"""Money is exact, bounded, and never a 500 (the reliability issue on overflowing sums).

Bounds (crm.models): quantity ≤ 1,000,000, price ≤ 99,999,999.99 and quantity × price ≤ MAX_ORDER_TOTAL = 10^12 ₽.
Every entry point (the API, the admin form, imports) refuses one unit or one kopeck above with a clear error,
the largest allowed values are exact to the kopeck on both databases, and no number of orders (maximal ones, or
larger ones stored before the bound) breaks the dashboard, the reports or `make_report`.
"""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone, translation

from crm import selectors, services
from crm.importexport.resources import OrderResource
from crm.models import MAX_ORDER_TOTAL, MAX_PRICE, MAX_QUANTITY, Client, Order
from crm.money import amount_from_cents, cents_sum, format_money
from reports.models import Report
from reports.rendering import report_text
from reports.selectors import report_figures
from reports.services import report_generate
from tests.api.conftest import Api, assert_error
from tests.factories import ClientFactory, OrderFactory
from tests.importexport.conftest import import_bytes

pytestmark = pytest.mark.django_db

# An hour ago: inside the window of `make_report`, which ends at the real now.
NOW = timezone.now().replace(microsecond=0) - timedelta(hours=1)
# (quantity, price) pairs at the bounds, each total checked against the exact Decimal product.
AT_THE_BOUNDS = [
    (12_500, Decimal("80000000.00")),  # exactly MAX_ORDER_TOTAL
    (MAX_QUANTITY, Decimal("1000000.00")),  # the largest quantity, at MAX_ORDER_TOTAL
    (10_000, MAX_PRICE),  # the largest price: 999,999,999,900.00
    (41_841, Decimal("23900002.39")),  # 999,999,999,999.99: the largest total ending in kopecks
    (9_999, MAX_PRICE),  # 999,899,999,900.01: fifteen digits, the last an odd kopeck
    (1, Decimal("0.01")),
]
# One unit or one kopeck above: (quantity, price, the field named by the error or None for the total's rule).
ABOVE_THE_BOUNDS = [
    (MAX_QUANTITY + 1, Decimal("1.00"), "quantity"),
    (1, Decimal("100000000.00"), "price"),  # MAX_PRICE + 0.01
    (28_381, Decimal("35234840.21"), None),  # 1,000,000,000,000.01: MAX_ORDER_TOTAL + 0.01
    (12_501, Decimal("80000000.00"), None),  # one unit more than the exact maximum
    (MAX_QUANTITY, Decimal("1000000.01"), None),  # one kopeck more on the largest quantity
    (MAX_QUANTITY, MAX_PRICE, None),  # both bounds at once: what the 930 orders did
]
# An order stored before the bound existed (the API took up to MAX_QUANTITY × MAX_PRICE).
LEGACY_QUANTITY, LEGACY_PRICE = MAX_QUANTITY, Decimal("99999990.00")


def total_limit_message() -> str:
    """The words every entry point shows for a total above the bound (in the server's language)."""
    with translation.override("ru"):
        return format_money(MAX_ORDER_TOTAL)


@pytest.fixture(autouse=True)
def _no_lockouts(settings):
    settings.AXES_ENABLED = False


@pytest.fixture
def api(manager):
    return Api(manager)


@pytest.fixture
def staff_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def buyer(db):
    return ClientFactory(email="buyer@example.com")


def add_orders(client: Client, count: int, *, quantity: int, price: Decimal, created_at=NOW, status="Pending"):
    """`count` orders in one bulk_create, as the devtools and imports write them (no validation)."""
    order = Order(client=client, product="Сервер", quantity=quantity, price=price, created_at=created_at,
                  status=status)
    order.normalize_fields()
    orders = [Order(client=client, product=order.product, quantity=quantity, price=price, created_at=created_at,
                    status=status, search_text=order.search_text) for _ in range(count)]
    Order.objects.bulk_create(orders, batch_size=500)


def old_cents_sum_overflows() -> bool:
    """Whether the old SQLite sum (one 64-bit integer of cents over every order) fails on the data now stored."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT SUM(CAST(ROUND(total_price * 100) AS INTEGER)) FROM crm_order")
            cursor.fetchone()
    except OperationalError as error:
        return "integer overflow" in str(error)
    return False


# ---------------------------------------------------------------------------
# The domain rule
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("quantity, price", AT_THE_BOUNDS)
def test_service_accepts_the_largest_values_and_the_total_is_the_exact_product(buyer, quantity, price):
    order = services.order_create(client=buyer, product="Сервер", quantity=quantity, price=price)
    order.refresh_from_db()
    assert order.total_price == quantity * price
    assert order.total_price <= MAX_ORDER_TOTAL


@pytest.mark.parametrize("quantity, price, field", ABOVE_THE_BOUNDS)
def test_service_refuses_one_unit_or_kopeck_above_with_one_clear_error(buyer, quantity, price, field):
    with pytest.raises(ValidationError) as refused:
        services.order_create(client=buyer, product="Сервер", quantity=quantity, price=price)
    errors = refused.value.message_dict
    if field:
        assert list(errors) == [field]  # the field's own bound, not the total's as well
    else:
        assert list(errors) == ["__all__"]
        assert refused.value.error_dict["__all__"][0].code == "order_total_too_large"
    assert not Order.objects.exists()


def test_total_rule_names_the_total_and_the_limit(buyer):
    with translation.override("ru"):
        with pytest.raises(ValidationError) as refused:
            services.order_create(client=buyer, product="Сервер", quantity=28_381, price=Decimal("35234840.21"))
        message = refused.value.messages[0]
        total = format_money(MAX_ORDER_TOTAL + Decimal("0.01"))
    assert total == "1\xa0000\xa0000\xa0000\xa0000,01\xa0₽"
    assert f"составила бы {total}" in message and total_limit_message() in message


def test_editing_an_order_above_the_bound_is_refused_and_changes_nothing(buyer):
    order = services.order_create(client=buyer, product="Сервер", quantity=12_500, price=Decimal("80000000.00"))
    with pytest.raises(ValidationError):
        services.order_update(order=Order.objects.get(pk=order.pk), quantity=12_501)
    assert Order.objects.get(pk=order.pk).total_price == MAX_ORDER_TOTAL


# ---------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
@pytest.mark.parametrize("quantity, price", AT_THE_BOUNDS)
def test_api_accepts_the_largest_values_and_shows_the_exact_total(api, buyer, quantity, price, form):
    response = api.post("/api/orders/add/", {
        "client": str(buyer.pk), "product": "Сервер", "quantity": str(quantity), "price": f"{price}",
    }, form=form)
    assert response.status_code == 200, response.content
    order_id = response.json()["id"]
    shown = api.get(f"/api/orders/get/{order_id}/").json()
    assert shown["price"] == f"{price}"
    assert shown["total_price"] == f"{quantity * price:.2f}"  # the exact product, to the kopeck
    assert Order.objects.get(pk=order_id).total_price == quantity * price


@pytest.mark.parametrize("quantity, price, field", ABOVE_THE_BOUNDS)
def test_api_refuses_one_unit_or_kopeck_above_with_a_field_or_total_error(api, buyer, quantity, price, field):
    response = api.post("/api/orders/add/", {
        "client": buyer.pk, "product": "Сервер", "quantity": quantity, "price": f"{price}",
    })
    body = assert_error(response, 400, field or "non_field_errors")
    if field is None:
        assert total_limit_message() in body["error"]
        assert body["errors"] == {"non_field_errors": [body["error"]]}
    assert not Order.objects.exists()


def test_api_edit_accepts_the_maximum_and_refuses_a_kopeck_above(api, buyer):
    order = OrderFactory(client=buyer, quantity=1, price=Decimal("35234840.21"))

    response = api.post(f"/api/orders/edit/{order.pk}/", {"quantity": "28380"}, form=True)
    assert response.json() == {"success": True, "id": order.pk}
    assert api.get(f"/api/orders/get/{order.pk}/").json()["total_price"] == "999964765159.80"
    order.refresh_from_db()
    assert order.total_price == 28_380 * Decimal("35234840.21")

    refused = api.post(f"/api/orders/edit/{order.pk}/", {"quantity": "28381"}, form=True)
    body = assert_error(refused, 400, "non_field_errors")
    assert total_limit_message() in body["error"]
    order.refresh_from_db()
    assert order.quantity == 28_380

    refused = api.post(f"/api/orders/edit/{order.pk}/", {"price": "100000000.00"})
    assert_error(refused, 400, "price")


# ---------------------------------------------------------------------------
# The admin form
# ---------------------------------------------------------------------------
def admin_order_form(client: Client, quantity, price) -> dict:
    return {"client": client.pk, "product": "Сервер", "quantity": str(quantity), "price": str(price),
            "description": "", "status": "Pending"}


@pytest.mark.parametrize("quantity, price", AT_THE_BOUNDS[:4])
def test_admin_form_accepts_the_largest_values(staff_client, buyer, quantity, price):
    response = staff_client.post(reverse("admin:crm_order_add"), admin_order_form(buyer, quantity, price))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Order.objects.get().total_price == quantity * price


@pytest.mark.parametrize("quantity, price, field", ABOVE_THE_BOUNDS)
def test_admin_form_refuses_one_unit_or_kopeck_above_with_a_clear_error(staff_client, buyer, quantity, price, field):
    response = staff_client.post(reverse("admin:crm_order_add"), admin_order_form(buyer, quantity, price))
    assert response.status_code == 200
    form = response.context["adminform"].form
    if field:
        assert list(form.errors) == [field]
    else:
        assert list(form.errors) == ["__all__"]
        assert total_limit_message() in form.non_field_errors()[0]
        assert total_limit_message() in response.content.decode()
    assert not Order.objects.exists()


# ---------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------
ORDER_HEADER = "E-mail клиента,Товар,Количество,Цена\n"


def test_import_accepts_the_largest_values_exactly(buyer):
    rows = "".join(f"buyer@example.com,Сервер,{quantity},{price}\n" for quantity, price in AT_THE_BOUNDS)
    result = import_bytes(OrderResource, ORDER_HEADER + rows)
    assert not result.has_validation_errors() and not result.has_errors()
    assert sorted(Order.objects.values_list("total_price", flat=True)) == sorted(q * p for q, p in AT_THE_BOUNDS)


@pytest.mark.parametrize("quantity, price, field", ABOVE_THE_BOUNDS)
def test_import_refuses_one_unit_or_kopeck_above_and_writes_nothing(buyer, quantity, price, field):
    rows = f"buyer@example.com,Сервер,1,1.00\nbuyer@example.com,Сервер,{quantity},{price}\n"
    result = import_bytes(OrderResource, ORDER_HEADER + rows)
    [invalid] = result.invalid_rows
    assert invalid.number == 3  # the file's line
    column = {"quantity": "Количество", "price": "Цена", None: "__all__"}[field]
    assert list(invalid.error_dict) == [column]
    if field is None:
        assert total_limit_message() in str(invalid.error_dict["__all__"][0])
    assert not Order.objects.exists()  # one invalid row and nothing is written


def test_import_refuses_a_number_too_long_to_be_a_quantity_at_once(buyer):
    """'1e100000000' once took minutes to become an int; now it is refused on sight."""
    result = import_bytes(OrderResource, ORDER_HEADER + "buyer@example.com,Сервер,1e100000000,1.00\n")
    [invalid] = result.invalid_rows
    assert list(invalid.error_dict) == ["Количество"]
    assert not Order.objects.exists()


def test_import_refuses_an_id_beyond_any_database_integer_instead_of_crashing(buyer):
    data = "ID,E-mail клиента,Товар,Количество,Цена\n99999999999999999999,buyer@example.com,Сервер,1,1.00\n"
    result = import_bytes(OrderResource, data)
    assert not result.base_errors and not result.error_rows
    [invalid] = result.invalid_rows
    assert "ID" in invalid.error_dict


# ---------------------------------------------------------------------------
# Sums: reports, make_report, the dashboard, the clients list
# ---------------------------------------------------------------------------
def assert_every_page_and_report_works(staff_client, user, *, expected_cents: int, count: int):
    """The report (service, API, command), the dashboard and the clients list, with exact sums."""
    expected = amount_from_cents(expected_cents)

    report = report_generate(period="week", now=NOW + timedelta(hours=1))
    assert report.new_orders_count == count
    report.refresh_from_db()  # the saved sum, read back from the database
    assert report.total_orders_sum == expected
    assert f"Сумма новых заказов: {expected}\n" in report_text(report)

    response = Api(user).get("/api/reports/get/")
    assert response.status_code == 200
    assert response.json()["reports"][0]["total_orders_sum"] == f"{expected}"

    out = StringIO()
    call_command("make_report", "--period", "year", stdout=out)  # a window ending now that includes NOW
    assert f"Сумма новых заказов: {expected}\n" in out.getvalue()

    figures = selectors.dashboard_figures(now=NOW + timedelta(hours=1))
    assert figures.by_status[0][2:] == (count, expected)  # every order is Pending
    assert figures.revenue_this_month + figures.revenue_last_month == expected  # NOW may be the 1st, 00:30
    assert staff_client.get(reverse("admin:index")).status_code == 200

    [client] = selectors.client_list_with_totals(status="all")
    assert client.orders_total == expected
    for ordering in ("5", "-5"):  # the clients list sorted by total spent
        assert staff_client.get(reverse("admin:crm_client_changelist"), {"o": ordering}).status_code == 200
    assert staff_client.get(reverse("admin:reports_report_changelist"), {"o": "7"}).status_code == 200


def test_many_maximal_orders_add_up_exactly_in_every_report_and_page(staff_client, manager, buyer):
    add_orders(buyer, 300, quantity=41_841, price=Decimal("23900002.39"))  # 999,999,999,999.99 each
    add_orders(buyer, 3, quantity=1, price=Decimal("0.10"))  # 0.10 × 3 is not 0.30 in floating point
    assert_every_page_and_report_works(staff_client, manager, expected_cents=300 * 99_999_999_999_999 + 30,
                                       count=303)


def test_orders_stored_before_the_bound_overflow_no_sum(staff_client, manager, buyer):
    """1,000 orders of ~10^14 ₽ (accepted before the bound, so a database may hold them) exceed 64-bit cents."""
    add_orders(buyer, 1000, quantity=LEGACY_QUANTITY, price=LEGACY_PRICE)
    if connection.vendor == "sqlite":
        assert old_cents_sum_overflows()  # what made every report and the dashboard answer 500
    assert_every_page_and_report_works(staff_client, manager, expected_cents=1000 * LEGACY_QUANTITY * 9_999_999_000,
                                       count=1000)


@pytest.mark.slow
def test_enough_maximal_orders_to_overflow_64_bit_cents_still_add_up_exactly(staff_client, manager, buyer):
    """92,234 orders of MAX_ORDER_TOTAL pass 2^63 cents: one bulk_create row, copied in SQL (bulk_create of
    93,000 rows takes half a minute)."""
    count = 93_000
    add_orders(buyer, 1, quantity=12_500, price=Decimal("80000000.00"))
    columns = "client_id, product, quantity, price, description, status, created_at, updated_at, search_text, version"
    copies = (
        "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) SELECT i FROM n)"
        if connection.vendor == "sqlite" else "generate_series(1, %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO crm_order ({columns}) SELECT {columns} FROM crm_order, {copies} AS n", [count - 1])
    assert Order.objects.count() == count
    assert count * 10**14 > 2**63 - 1
    if connection.vendor == "sqlite":
        assert old_cents_sum_overflows()
    assert_every_page_and_report_works(staff_client, manager, expected_cents=count * 10**14, count=count)


def test_sums_carry_between_their_parts_and_sort_as_numbers(buyer):
    """Totals whose every part is 99999 (…99 999 99 999 cents) carry across the parts of the SQLite sum."""
    other = ClientFactory(email="other@example.com")
    add_orders(buyer, 101, quantity=1, price=Decimal("99999999.99"))  # 99,999,999.99 = 9,999,999,999 cents
    add_orders(other, 1, quantity=10_001, price=Decimal("99999999.99"))  # a larger sum: 1,000,099,999,899.99
    rows = list(
        Order.objects.order_by().values("client_id").annotate(cents=cents_sum()).order_by("-cents")
    )
    assert [(row["client_id"], row["cents"]) for row in rows] == [
        (other.pk, 10_001 * 9_999_999_999),
        (buyer.pk, 101 * 9_999_999_999),
    ]
    assert Order.objects.aggregate(cents=cents_sum())["cents"] == 10_102 * 9_999_999_999
    assert Order.objects.none().aggregate(cents=cents_sum())["cents"] == 0


def test_report_figures_of_the_largest_orders_are_exact_to_the_kopeck(buyer):
    add_orders(buyer, 7, quantity=41_841, price=Decimal("23900002.39"), status="Completed")
    add_orders(buyer, 1, quantity=1, price=Decimal("0.01"))
    figures = report_figures(start=NOW - timedelta(days=1), end=NOW + timedelta(days=1))
    assert figures["total_orders_sum"] == Decimal("6999999999999.94")
    assert figures["avg_order_sum"] == Decimal("874999999999.99")  # 6,999,999,999,999.94 / 8, half up
    assert figures["status_breakdown"][1] == {"status": "Completed", "count": 7, "sum": "6999999999999.93"}


def test_saved_report_sums_keep_every_kopeck_and_sort_as_numbers(db):
    """SQLite kept report sums as REAL, read back with 15 digits: 2,999,999,999,999.97 came back .00."""
    sums = [Decimal("2999999999999.97"), Decimal("10.00"), Decimal("9.99"), Decimal("123456789012345678901234.56")]
    for total in sums:
        Report.objects.create(period="week", period_start=NOW, period_end=NOW, created_at=NOW, new_orders_count=1,
                              new_clients_count=0, total_orders_sum=total, avg_order_sum=total,
                              completed_orders_count=0)
    assert list(Report.objects.order_by("total_orders_sum").values_list("total_orders_sum", flat=True)) == sorted(sums)
    assert Report.objects.filter(avg_order_sum__gt=Decimal("10.00")).count() == 2


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL adds numeric: one sum, never an overflow")
def test_sqlite_sums_in_one_integer_until_it_would_overflow_then_in_parts(buyer):
    """The fast single SUM serves ordinary data; the overflow-free parts take over only when SQLite says so."""
    from django.test.utils import CaptureQueriesContext

    add_orders(buyer, 2, quantity=1, price=Decimal("0.10"))
    # A filtered list is summed from the orders (all orders or one status come from the rollups).
    with CaptureQueriesContext(connection) as queries:
        assert selectors.order_list_summary(Order.objects.filter(client=buyer)).total == Decimal("0.20")
    assert not any("printf" in query["sql"] for query in queries.captured_queries)

    add_orders(buyer, 1000, quantity=LEGACY_QUANTITY, price=LEGACY_PRICE)
    expected = amount_from_cents(1000 * LEGACY_QUANTITY * 9_999_999_000 + 20)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.order_list_summary(Order.objects.filter(client=buyer)).total == expected
    assert any("printf" in query["sql"] for query in queries.captured_queries)
    assert selectors.order_list_summary(Order.objects.all()).total == expected
    # Reports read rollups whose sums are split in two integers (reports/rollups.py): exact without a retry.
    figures = report_figures(start=NOW - timedelta(days=1), end=NOW + timedelta(days=1))
    assert figures["total_orders_sum"] == expected
