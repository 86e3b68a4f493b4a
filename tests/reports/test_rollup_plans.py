"""Reports read the rollups and only the partial days' orders: no plan scans the orders, clients or client sums."""

import pytest
from django.db import connection
from django.utils import timezone

from crm.devtools.datagen import generate_data
from reports.selectors import report_daily_sums
from reports.services import report_generate, report_window

pytestmark = pytest.mark.django_db

# Scans whose cost grows with the data (the small rollups of days and hours may be read whole).
GROWING_TABLES = ("crm_order", "crm_client", "reports_rollup_period_client")


def sqlite_problems(plan: list[str]) -> list[str]:
    return [line for line in plan if any(line.startswith(f"SCAN {table}") for table in GROWING_TABLES)]


def postgresql_problems(plan: list[str]) -> list[str]:
    problems = []
    for number, line in enumerate(plan):
        if not any(f" on {table} " in f"{line} " for table in GROWING_TABLES) or "Scan" not in line:
            continue
        if "Seq Scan" in line:
            problems.append(line)
            continue
        # An index scan must be bounded by a condition (else it walks the whole index), or stop at a LIMIT.
        details = []
        for following in plan[number + 1 :]:
            if "->" in following:
                break
            details.append(following)
        limited = any("Limit" in earlier for earlier in plan[max(0, number - 2) : number])
        if not limited and not any("Cond" in detail for detail in details):
            problems.append(line)
    return problems


@pytest.mark.skipif(connection.vendor not in ("sqlite", "postgresql"), reason="SQLite and PostgreSQL plans")
def test_reports_never_scan_the_orders_beyond_the_partial_days():
    generate_data(clients=3000, orders=30000, days=730, seed=7, progress=False)
    plans = []

    def explain(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
                cursor.execute(prefix + sql, params)
                plans.append((sql, [str(row[-1] if connection.vendor == "sqlite" else row[0]) for row in cursor.fetchall()]))
        return execute(sql, params, many, context)

    now = timezone.now()
    with connection.execute_wrapper(explain):
        for period in ("week", "month", "year"):
            report_generate(period=period, now=now)
            report_daily_sums(*(), **dict(zip(("start", "end"), report_window(period=period, now=now))))
    assert len(plans) >= 12
    check = sqlite_problems if connection.vendor == "sqlite" else postgresql_problems
    problems = [(sql, check(plan)) for sql, plan in plans if check(plan)]
    assert not problems, problems
