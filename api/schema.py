"""OpenAPI descriptions of the operations (drf-spectacular): request fields, responses, errors, Russian examples.

Kept apart from views.py so each view stays a few lines; every view method wears one of these.
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema

from api.serializers import (
    ClientDetailSerializer,
    ClientInputSerializer,
    ClientListInputSerializer,
    ClientListSerializer,
    ConflictSerializer,
    ErrorSerializer,
    OrderEditSerializer,
    OrderInputSerializer,
    OrderListInputSerializer,
    OrderListSerializer,
    OrderSerializer,
    ReportInputSerializer,
    ReportListSerializer,
    SuccessIdSerializer,
    SuccessSerializer,
    TokenPairSerializer,
)

class JWTScheme(SimpleJWTScheme):
    """The bearer-token security scheme for api.authentication.JWTAuthentication, as for simplejwt's."""

    target_class = "api.authentication.JWTAuthentication"


ERROR_DESCRIPTIONS = {
    400: "Bad input: `errors` names each wrong field.",
    401: "No or invalid credentials.",
    403: "The user lacks the model permission.",
    404: "No object with this id.",
    409: "The e-mail belongs to another client; `id` is that client's id.",
    415: "The body's Content-Type is not JSON, form-encoded or multipart.",
    429: "Too many requests; retry after the Retry-After header's seconds.",
}
ERROR_EXAMPLES = {
    400: {"success": False, "error": "Invalid price: Ensure that there are no more than 2 decimal places.",
          "errors": {"price": ["Ensure that there are no more than 2 decimal places."]}},
    401: {"success": False, "error": "Authentication credentials were not provided."},
    403: {"success": False, "error": "You do not have permission to perform this action."},
    404: {"success": False, "error": "Not found."},
    409: {"success": False, "error": "A client with this e-mail already exists.",
          "errors": {"email": ["A client with this e-mail already exists."]}, "id": 101},
    415: {"success": False, "error": 'Unsupported media type "text/plain" in request.'},
    429: {"success": False, "error": "Request was throttled. Expected available in 30 seconds."},
}


def _errors(*codes: int) -> dict:
    return {
        code: OpenApiResponse(
            ConflictSerializer if code == 409 else ErrorSerializer,
            description=ERROR_DESCRIPTIONS[code],
            examples=[OpenApiExample(f"error {code}", value=ERROR_EXAMPLES[code], response_only=True,
                                     status_codes=[str(code)])],
        )
        for code in codes
    }


AUTHENTICATED = (401, 403, 429)
WITH_BODY = (400, 415) + AUTHENTICATED
BY_ID = (404,) + AUTHENTICATED

CLIENT = {"id": 101, "first_name": "Иван", "last_name": "Иванов", "middle_name": "Иванович",
          "mobile_phone": "+79001234567", "email": "ivanov@example.com"}
ORDER = {"id": 52, "client": {"id": 101, "full_name": "Иван Иванов", "email": "ivanov@example.com",
                              "mobile_phone": "+79001234567"},
         "product": "Ноутбук", "quantity": 2, "price": "1500.00", "total_price": "3000.00",
         "description": "Заказ ноутбука", "status": "Pending", "created_at": "17.12.2024 21:00"}
REPORT = {"id": 1, "period": "month", "new_orders_count": 10, "new_clients_count": 5,
          "total_orders_sum": "5000.00", "avg_order_sum": "500.00", "completed_orders_count": 8,
          "date_created": "17 декабря 2024 года, 21:00"}


def _request_example(name: str, value: dict) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True)


def _ok(serializer, example: dict, description: str = "") -> dict:
    return {200: OpenApiResponse(serializer, description=description,
                                 examples=[OpenApiExample("ok", value=example, response_only=True)])}


# ---------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------
token_obtain = extend_schema(
    tags=["auth"], operation_id="token_obtain", summary="Получение JWT токена",
    description="Both tokens for a user name and password. Repeated failures lock the user name "
                "for this address (django-axes) and answer 429.",
    auth=[],
    responses={**_ok(TokenPairSerializer, {"access": "<ACCESS_TOKEN>", "refresh": "<REFRESH_TOKEN>"}),
               **_errors(400, 401, 415, 429)},
    examples=[_request_example("Вход", {"username": "test", "password": "test"})],
)
token_refresh = extend_schema(
    tags=["auth"], operation_id="token_refresh", summary="Обновление JWT токена",
    description="A new access token and a new refresh token; the refresh token sent stops working.",
    auth=[],
    responses={**_ok(TokenPairSerializer, {"access": "<NEW_ACCESS_TOKEN>", "refresh": "<NEW_REFRESH_TOKEN>"}),
               **_errors(400, 401, 415, 429)},
    examples=[_request_example("Обновление", {"refresh": "<REFRESH_TOKEN>"})],
)

# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------
client_add = extend_schema(
    tags=["clients"], operation_id="clients_add", summary="Добавление клиента",
    request=ClientInputSerializer,
    responses={**_ok(SuccessIdSerializer, {"success": True, "id": 102}), **_errors(409, *WITH_BODY)},
    examples=[_request_example("Клиент", {"first_name": "Иван", "last_name": "Иванов", "middle_name": "Иванович",
                                          "mobile_phone": "+79001234567", "email": "ivanov@example.com"})],
)
_client_get = {"tags": ["clients"], "summary": "Получение одного клиента по ID", "request": None,
               "responses": {**_ok(ClientDetailSerializer, {"client": CLIENT}), **_errors(*BY_ID)}}
client_get = extend_schema(operation_id="clients_get", **_client_get)
client_get_post = extend_schema(operation_id="clients_get_post", **_client_get)
_client_list = {
    "tags": ["clients"], "summary": "Получение списка клиентов",
    "description": "Fifty clients from `start_id` (how many the caller already has). "
                   "The response holds only the `clients` list.",
    "responses": {**_ok(ClientListSerializer, {"clients": [CLIENT]}), **_errors(*WITH_BODY)},
}
client_list_get = extend_schema(operation_id="clients_list_query", parameters=[ClientListInputSerializer],
                                **_client_list)
client_list_post = extend_schema(
    operation_id="clients_list", request=ClientListInputSerializer,
    examples=[_request_example("Поиск", {"start_id": 0, "status": "active", "search": "Анатолий", "order_by": "-id"})],
    **_client_list,
)
client_edit = extend_schema(
    tags=["clients"], operation_id="clients_edit", summary="Редактирование клиента",
    description="Any subset of the add fields.",
    request=ClientInputSerializer(partial=True),
    responses={**_ok(SuccessIdSerializer, {"success": True, "id": 101}), **_errors(404, 409, *WITH_BODY)},
    examples=[_request_example("Новое имя", {"first_name": "Петр", "last_name": "Петров"})],
)
client_delete = extend_schema(
    tags=["clients"], operation_id="clients_delete", summary="Удаление клиента",
    description="Archives the client: it leaves the default list and keeps its orders.",
    request=None, responses={**_ok(SuccessSerializer, {"success": True}), **_errors(*BY_ID)},
)

# ---------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------
order_add = extend_schema(
    tags=["orders"], operation_id="orders_add", summary="Добавление заказа",
    description="`price` also accepts a decimal comma (\"1500,50\"); `total_price` is computed by the server.",
    request=OrderInputSerializer,
    responses={**_ok(SuccessIdSerializer, {"success": True, "id": 52}), **_errors(*WITH_BODY)},
    examples=[_request_example("Заказ", {"client": 1, "product": "Ноутбук", "quantity": 2, "price": "1500.00",
                                         "description": "Заказ ноутбука"})],
)
_order_get = {"tags": ["orders"], "summary": "Получение одного заказа", "request": None,
              "responses": {**_ok(OrderSerializer, ORDER), **_errors(*BY_ID)}}
order_get = extend_schema(operation_id="orders_get", **_order_get)
order_get_post = extend_schema(operation_id="orders_get_post", **_order_get)
_order_list = {
    "tags": ["orders"], "summary": "Получение списка заказов",
    "description": "Fifty orders from `start_id` (how many the caller already has). "
                   "The response holds only the `orders` list.",
    "responses": {**_ok(OrderListSerializer, {"orders": [ORDER]}), **_errors(*WITH_BODY)},
}
order_list_get = extend_schema(operation_id="orders_list_query", parameters=[OrderListInputSerializer], **_order_list)
order_list_post = extend_schema(
    operation_id="orders_list", request=OrderListInputSerializer,
    examples=[_request_example("Поиск", {"start_id": 0, "status": "Pending", "order_by": "-id", "client_id": 101,
                                         "search": "Ноутбук"})],
    **_order_list,
)
order_edit = extend_schema(
    tags=["orders"], operation_id="orders_edit", summary="Редактирование заказа",
    description="Any subset of the fields; `client_id` is accepted for `client`.",
    request=OrderEditSerializer(partial=True),
    responses={**_ok(SuccessIdSerializer, {"success": True, "id": 52}), **_errors(404, *WITH_BODY)},
    examples=[_request_example("Изменение", {"product": "Смартфон", "quantity": 3, "price": "1000.00",
                                             "status": "Completed"})],
)
order_delete = extend_schema(
    tags=["orders"], operation_id="orders_delete", summary="Удаление заказа",
    request=None, responses={**_ok(SuccessSerializer, {"success": True}), **_errors(*BY_ID)},
)

# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------
report_new = extend_schema(
    tags=["reports"], operation_id="reports_new", summary="Создание отчета",
    description="A frozen report over the last 7, 30 or 365 days.",
    request=ReportInputSerializer,
    responses={**_ok(SuccessIdSerializer, {"success": True, "id": 12}), **_errors(*WITH_BODY)},
    examples=[_request_example("Неделя", {"period": "week"})],
)
_report_list = {"tags": ["reports"], "summary": "Получение всех отчетов", "description": "Newest first.",
                "request": None,
                "responses": {**_ok(ReportListSerializer, {"reports": [REPORT]}), **_errors(*AUTHENTICATED)}}
report_list = extend_schema(operation_id="reports_list", **_report_list)
report_list_post = extend_schema(operation_id="reports_list_post", **_report_list)
report_download = extend_schema(
    tags=["reports"], operation_id="reports_download", summary="Получение отчета по ID",
    description='A text file, `Content-Disposition: attachment; filename="report_<id>.txt"`.',
    request=None,
    responses={
        (200, "text/plain"): OpenApiResponse(
            OpenApiTypes.STR, description="The report as text.",
            examples=[OpenApiExample("report", response_only=True, media_type="text/plain", value=(
                "Отчет за период: Месяц\nДата создания: 17 декабря 2024 года, 21:00\n"
                "Кол-во новых заказов: 10\nКол-во новых клиентов: 5\nСумма новых заказов: 5000.00\n"
                "Средняя сумма заказов: 500.00\nКол-во выполненных заказов: 8\n"))],
        ),
        **_errors(*BY_ID),
    },
)
