"""`python -m crm.devtools.measured_worker`: a worker that runs the queued jobs and exits, then prints its memory
as JSON: before the first job, the peak of its private memory (RssAnon, sampled every 0.1 s) and the peak of its
whole resident set (VmHWM, which also counts the pages of the SQLite file mapped by mmap_size, shared with the OS
cache). Used by the export benchmark (crm/devtools/export_bench.py)."""

import json
import threading
import time
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

    idle = memory_mb("RssAnon")  # Django and the app loaded, before any job
    peak_anon = idle
    finished = threading.Event()

    def sample():
        nonlocal peak_anon
        while not finished.is_set():
            peak_anon = max(peak_anon, memory_mb("RssAnon"))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    call_command("run_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    finished.set()
    sampler.join()
    peak_anon = max(peak_anon, memory_mb("RssAnon"))
    print(json.dumps({"idle_mb": idle, "peak_mb": memory_mb("VmHWM"), "peak_anon_mb": peak_anon}))


if __name__ == "__main__":
    main()
