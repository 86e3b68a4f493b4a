# Shortcuts for the README's commands (which need only Python, not make).
PYTHON ?= python3

.PHONY: run test test-postgres check-migrations bench bench-postgres

run:
	$(PYTHON) -m crm.bootstrap run

test:
	$(PYTHON) -m crm.bootstrap test

test-postgres:
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test $(PYTHON) -m crm.bootstrap test

# The performance benchmark (see README): 20,000 clients / 200,000 orders, gunicorn on loopback.
bench:
	DJANGO_DEBUG=1 .venv/bin/python manage.py benchmark

bench-postgres:
	DJANGO_DEBUG=1 .venv/bin/python manage.py benchmark --database-url postgres://postgres@127.0.0.1:5432/crm_bench --compare-sqlite

check-migrations:
	DJANGO_DEBUG=1 .venv/bin/python manage.py makemigrations --check --dry-run
