"""Pure rendering of a report as Russian text (no database, no active language: the contract fixes Russian)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from crm.models import Order, fixed_russian_labels
from crm.money import format_amount

# The contract fixes these texts in Russian whatever language the request or the server uses.
PERIOD_NAMES = {"week": "Неделя", "month": "Месяц", "year": "Год"}
MONTHS_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)


def period_name(period: str) -> str:
    """The Russian name of a report period: Неделя, Месяц or Год."""
    return PERIOD_NAMES.get(period, period)


def format_date_created(dt: datetime) -> str:
    """A moment in the server's time zone as "17 декабря 2024 года, 21:00"."""
    zone = ZoneInfo(settings.TIME_ZONE)
    if timezone.is_naive(dt):
        dt = dt.replace(tzinfo=zone)
    local = dt.astimezone(zone)
    return f"{local.day} {MONTHS_GENITIVE[local.month - 1]} {local.year} года, {local:%H:%M}"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _figures_line(count: int, total: object) -> str:
    return f"заказов: {count}, сумма: {format_amount(total)}"


def report_text(report) -> str:
    """The downloadable text of a report: the contract's lines, then the breakdown by status and the tops."""
    lines = [
        f"Отчет за период: {period_name(report.period)}",
        f"Дата создания: {format_date_created(report.created_at)}",
        f"Кол-во новых заказов: {report.new_orders_count}",
        f"Кол-во новых клиентов: {report.new_clients_count}",
        f"Сумма новых заказов: {format_amount(report.total_orders_sum)}",
        f"Средняя сумма заказов: {format_amount(report.avg_order_sum)}",
        f"Кол-во выполненных заказов: {report.completed_orders_count}",
        "",
        f"Период: с {format_date_created(report.period_start)} по {format_date_created(report.period_end)}",
        "",
        "Заказы по статусам:",
    ]
    status_names = fixed_russian_labels(Order.Status)
    for row in report.status_breakdown:
        lines.append(f"{status_names.get(row['status'], row['status'])} — {_figures_line(row['count'], row['sum'])}")

    lines += ["", "Топ-5 товаров по сумме:"]
    for place, row in enumerate(report.top_products, start=1):
        lines.append(f"{place}. {_one_line(row['product'])} — {_figures_line(row['count'], row['sum'])}")
    if not report.top_products:
        lines.append("нет заказов")

    lines += ["", "Топ-5 клиентов по сумме:"]
    for place, row in enumerate(report.top_clients, start=1):
        lines.append(f"{place}. {_one_line(row['name'])} — {_figures_line(row['count'], row['sum'])}")
    if not report.top_clients:
        lines.append("нет заказов")

    return "\n".join(lines) + "\n"


def report_filename(report) -> str:
    """The name of the downloaded file: report_<id>.txt."""
    return f"report_{report.pk}.txt"
