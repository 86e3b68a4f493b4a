# Shortcuts for the README's commands (which need only Python, not make).
PYTHON ?= python3

.PHONY: run test test-postgres check-migrations bench

run:
	$(PYTHON) -m crm.bootstrap run

test:
	$(PYTHON) -m crm.bootstrap test

test-postgres:
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test $(PYTHON) -m crm.bootstrap test

check-migrations:
	DJANGO_DEBUG=1 .venv/bin/python manage.py makemigrations --check --dry-run
