# Shortcuts for the README's commands (which need only Python, not make).
PYTHON ?= python3

.PHONY: run test test-postgres check-migrations bench bench-postgres bench-scale bench-scale-postgres bench-throughput

run:
	$(PYTHON) -m crm.bootstrap run

test:
	$(PYTHON) -m crm.bootstrap test

test-postgres:
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test $(PYTHON) -m crm.bootstrap test

# The performance benchmark (see README): 20,000 clients / 200,000 orders, granian on loopback.
bench:
	DJANGO_DEBUG=1 .venv/bin/python manage.py benchmark

bench-postgres:
	DJANGO_DEBUG=1 .venv/bin/python manage.py benchmark --database-url postgres://postgres@127.0.0.1:5432/crm_bench --compare-sqlite

# Issue 16: the 200,000-order set beside a ten times bigger one, requests taking turns, with the growth column.
# --reuse keeps both data sets for the next run (generating the big one takes a couple of minutes).
bench-scale:
	DJANGO_DEBUG=1 .venv/bin/python manage.py benchmark --scale 200000:2000000 --reuse

bench-scale-postgres:
	DJANGO_DEBUG=1 .venv/bin/python manage.py benchmark --scale 200000:2000000 --reuse --database-url postgres://postgres@127.0.0.1:5432/crm_bench --compare-sqlite

# Requests per second on the orders list with 8 connections, under each server setting in turn.
bench-throughput:
	DJANGO_DEBUG=1 .venv/bin/python manage.py benchmark --throughput --reuse --workers 2:granian:2,2:granian:1,3:granian:1,2:gthread:4,3:gthread:1,4:sync

check-migrations:
	DJANGO_DEBUG=1 .venv/bin/python manage.py makemigrations --check --dry-run
