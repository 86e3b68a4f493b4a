"""Background jobs: long imports run by a worker (Django's tasks API), followed on a job page.

models.py: Job, our record of one piece of background work (who, what, progress, outcome);
services.py: every write to it; selectors.py: reads; tasks.py: the task functions the worker runs;
files.py: the job's private input file and its progress file; admin.py: the Jobs pages.
"""
