# Two commands for a new machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run call test test-fast lint bench clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# Migrates the embedded SQLite database, loads the demo data once, then serves the app on
# $(HOST):$(PORT) with the django-q2 worker and the projections' follower (the queue, the
# reminders and the metrics within a second of each commit) beside it. Ctrl-C stops all.
run: install
	@set -e; export DEBUG=$${DEBUG:-1}; \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py load_demo --if-empty; \
	$(PY) manage.py install_schedules; \
	$(PY) manage.py qcluster & worker=$$!; \
	$(PY) manage.py run_projections --follow & follower=$$!; \
	trap 'kill $$worker $$follower 2>/dev/null; wait $$worker $$follower 2>/dev/null' EXIT INT TERM; \
	echo ""; \
	echo "  Admin:  http://$(HOST):$(PORT)/admin/   (demo login: frontdesk / demo-frontdesk-pass)"; \
	echo "  Other demo logins: agent, clinician, supervisor (password demo-<name>-pass)"; \
	echo "  Agent desk: http://$(HOST):$(PORT)/desk/   (agent / demo-agent-pass); ring it: make call"; \
	echo ""; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Rings the server `make run` serves as Twilio would (a signed incoming call for a demo
# patient); ARGS passes simulate_call's options: make call ARGS="--crisis --end-after 20".
call: install
	@DEBUG=$${DEBUG:-1} $(PY) manage.py simulate_call --url http://$(HOST):$(PORT) $(ARGS)

test: install
	$(PY) -m pytest -q

# The inner loop: the tests that need no database (domain, rules, settings, templates), in
# seconds. A selected test that reaches for the database fails: pytest-django blocks it.
test-fast: install
	$(PY) -m pytest -q -m "not database and not slow and not processes"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	DJANGO_SETTINGS_MODULE=config.test_settings $(PY) manage.py makemigrations --check --dry-run

# Benchmarks run against PostgreSQL (BENCH_DATABASE_URL), never inside `make test`.
bench: install
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
