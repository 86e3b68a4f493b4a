"""Time the worker's step that queues scheduled reports, on the database DATABASE_URL names (use a scratch one):

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 manage.py migrate
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 manage.py shell -c "from crm.devtools.schedule_bench import run; run()"

It adds 10,000 schedules (none due), times the pass every worker makes each minute, then makes 1,000 of them due
and times the pass that queues them.
"""

import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from reports.models import ReportSchedule
from reports.schedules import enqueue_due_schedules, next_run_after


def run(*, schedules: int = 10_000, due: int = 1_000) -> None:
    owner, _created = get_user_model().objects.get_or_create(
        username="schedule-bench", defaults={"is_staff": True, "is_superuser": True}
    )
    now = timezone.now()
    rows = [ReportSchedule(owner=owner, recipients=f"r{n}@example.com", hour=n % 24, weekday=n % 7)
            for n in range(schedules)]
    for row in rows:
        row.next_run_at = next_run_after(row, now)
    ReportSchedule.objects.bulk_create(rows, batch_size=1000)
    enqueue_due_schedules()  # connect, warm up

    times = []
    for _ in range(50):
        started = time.perf_counter()
        enqueue_due_schedules()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"pass with {ReportSchedule.objects.count():,} schedules, none due: "
          f"median {times[25]:.2f} ms, p95 {times[47]:.2f} ms")

    ids = list(ReportSchedule.objects.filter(owner=owner).values_list("pk", flat=True)[:due])
    ReportSchedule.objects.filter(pk__in=ids).update(next_run_at=now - timedelta(minutes=1))
    started = time.perf_counter()
    jobs = enqueue_due_schedules()
    elapsed = time.perf_counter() - started
    print(f"pass with {due:,} due: {len(jobs):,} jobs queued in {elapsed:.1f} s "
          f"({elapsed / max(len(jobs), 1) * 1000:.1f} ms each, handing them to the task backend included)")
