# Stockroom: `make run` serves a development instance, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
HOST ?= 127.0.0.1
BIN := $(VENV)/bin
# `make run` switches development mode on by itself; the settings default to production.
DEV_ENV := DEBUG=true
TEST_ENV := SECRET_KEY="$${SECRET_KEY:-insecure-test-only-key-0123456789-abcdefghijklmnopqrstuvwxyz}" \
	SECURE_SSL_REDIRECT=false

.PHONY: venv run migrate test test-pgbouncer test-cluster lint format check-deploy worker beat bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

migrate: venv
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput

run: migrate
	$(DEV_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: venv
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

# The suite through PgBouncer in transaction mode (DATABASE_URL's server behind it; root).
test-pgbouncer: venv
	PYTEST_ARGS="$(PYTEST_ARGS)" tests/cluster/pgbouncer_suite.sh

# The real thing: primary + streaming replica + PgBouncer + two nodes behind haproxy (root).
test-cluster: venv
	tests/cluster/run.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Production settings must pass Django's deployment checklist.
check-deploy: venv
	DEBUG=false SECRET_KEY="$${SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')}" \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

worker: venv
	$(DEV_ENV) $(BIN)/celery -A config.celery:app worker --loglevel=INFO

beat: venv
	$(DEV_ENV) $(BIN)/celery -A config.celery:app beat --loglevel=INFO

bench: venv
	$(TEST_ENV) $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
