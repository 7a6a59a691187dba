# Redress: the two commands a newcomer needs are `make run` and `make test`.
# Everything they need is installed into .venv and node_modules by `make install`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: help install run test lint format check-services migrate demo bench clean

help:
	@echo "make run      set everything up and run web, worker and beat with demo data on :$(PORT)"
	@echo "make test     set everything up and run ruff and the whole test suite"
	@echo "make install  create .venv and install the Python and npm dependencies"
	@echo "make lint     ruff check and format check"
	@echo "make clean    remove .venv, node_modules and var/"
	@echo "make bench    load 1,000,000 complaints (BENCH_SIZE) into redress_bench and time the pages"

install: $(VENV)/.installed node_modules/.installed chromium

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests (tests/browser) drive Debian's Chromium; Playwright downloads nothing.
.PHONY: chromium
chromium:
	test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver)
chromium: SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The embedded default: with no DATABASE_URL or REDIS_URL, a first look needs no servers.
run: export DEBUG ?= 1
run: export DATABASE_URL ?= sqlite:///$(CURDIR)/var/redress.sqlite3
run: export CELERY_BROKER_URL ?= $(if $(REDIS_URL),$(REDIS_URL),filesystem://)
run: export EMAIL_BACKEND ?= $(if $(EMAIL_HOST),django.core.mail.backends.smtp.EmailBackend,django.core.mail.backends.filebased.EmailBackend)
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: install
	mkdir -p var/celery/processed var/celery/control var/mail
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo "Starting web, worker and beat on http://127.0.0.1:$(PORT)/  (Ctrl-C stops all three)"
	$(BIN)/honcho --procfile config/Procfile.dev --app-root . start

test: install lint
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules var

# The scale benchmark: BENCH_SIZE complaints (default 1,000,000) in a database of its own,
# redress_bench (or BENCH_DATABASE_URL), on a Redis database of its own; see complaints/bench.py.
bench: export DATABASE_URL = $(or $(BENCH_DATABASE_URL),postgres://postgres@127.0.0.1:5432/redress_bench)
bench: export REDIS_URL = $(or $(BENCH_REDIS_URL),redis://127.0.0.1:6379/15)
bench: install
	$(BIN)/python manage.py bench
