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

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

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
