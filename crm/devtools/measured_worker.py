"""`python -m crm.devtools.measured_worker`: a worker that runs the queued jobs and exits, then prints its memory
(before the first job, and the peak) as JSON. Used by the export benchmark (crm/devtools/export_bench.py)."""

import json
from pathlib import Path


def memory_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    idle = memory_mb("VmRSS")  # Django and the app loaded, before any job
    call_command("run_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    print(json.dumps({"idle_mb": idle, "peak_mb": memory_mb("VmHWM")}))


if __name__ == "__main__":
    main()
