# Redress: the two commands a newcomer needs are `make run` and `make test`.
# Everything they need is installed into .venv and node_modules by `make install`; `make test`
# also needs Chromium for the browser tests, which `make test-deps` installs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: help install run test test-deps lint format check-services migrate demo bench clean audit load test-cluster cluster-throughput cluster-deps

help:
	@echo "make run      set everything up and run web, worker and beat with demo data on :$(PORT)"
	@echo "make test     set everything up and run ruff, bandit and the whole test suite"
	@echo "make install  create .venv and install the Python and npm dependencies"
	@echo "make test-deps  install Chromium for the browser tests (apt-get; make test runs it)"
	@echo "make lint     ruff check and format check, bandit"
	@echo "make clean    remove .venv, node_modules and var/"
	@echo "make bench    load 1,000,000 complaints (BENCH_SIZE) into redress_bench and time the pages"
	@echo "make audit    bandit, and pip-audit of the installed dependencies (needs PyPI)"
	@echo "make load     load test: gunicorn and locust on loopback, database redress_load (LOAD_USERS)"
	@echo "make test-cluster  three nodes in network namespaces behind HAProxy, a standby, PgBouncer (root)"

# The customers' languages: locale/<language>/LC_MESSAGES/django.po, written and reviewed by
# people, compiled here for Django (docs/correspondence.md, "Languages"). The .mo files are
# built, never committed.
MESSAGES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

install: $(VENV)/.installed node_modules/.installed $(MESSAGES)


# setuptools too: the one venv bundles (65.5 with Python 3.11) has published advisories.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# compilemessages needs gettext's msgfmt; without it the customers' pages and emails stay in
# English (`make test-deps` installs it, and the tests stop and say so).
locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(VENV)/.installed
	@if command -v msgfmt >/dev/null; then \
		DEBUG=1 $(BIN)/python manage.py compilemessages --locale $* --ignore .venv --ignore node_modules; \
	else \
		echo "gettext's msgfmt is not installed: customers' pages and emails will be in English only."; \
		echo "Install gettext (Debian: apt-get install gettext; macOS: brew install gettext) and run make again."; \
	fi

# The browser tests (tests/browser) drive Debian's Chromium at /usr/bin/chromium; Playwright
# downloads nothing. The mailbox tests start Debian's Dovecot (dovecot-imapd) on loopback as an
# unprivileged process; the Spanish tests need gettext's msgfmt. Only `make test` needs them:
# `make run` works without any of them. Letters (PDF, WeasyPrint) need Pango, which most
# desktops have; test-deps installs it where missing.
test-deps:
	@if test -x /usr/bin/chromium && test -x /usr/sbin/dovecot && command -v msgfmt >/dev/null && $(PANGO_FOUND); then exit 0; \
	elif command -v apt-get >/dev/null; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver dovecot-imapd gettext libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; \
	else \
		echo "make test needs Chromium at /usr/bin/chromium for the browser tests, Dovecot at"; \
		echo "/usr/sbin/dovecot for the mailbox tests and gettext's msgfmt for the translations, and"; \
		echo "this system has no apt-get. Install them with"; \
		echo "your package manager (Fedora: dnf install chromium dovecot; Arch: pacman -S chromium dovecot)"; \
		echo "so that /usr/bin/chromium and /usr/sbin/dovecot start them (symbolic links will do), then run make test again."; \
		exit 1; \
	fi
# WeasyPrint, which renders letters to PDF, loads Pango when it is imported.
PANGO_FOUND := $(BIN)/python -c 'import weasyprint' 2>/dev/null
test-deps: SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The embedded default: with no DATABASE_URL or REDIS_URL, a first look needs no servers.
run: export DEBUG ?= 1
run: export DATABASE_URL ?= sqlite:///$(CURDIR)/var/redress.sqlite3
run: export CELERY_BROKER_URL ?= $(if $(REDIS_URL),$(REDIS_URL),filesystem://)
run: export EMAIL_BACKEND ?= $(if $(EMAIL_HOST),django.core.mail.backends.smtp.EmailBackend,django.core.mail.backends.filebased.EmailBackend)
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
# The demo's mailbox: an .eml file put here reaches Redress within a minute (docs/correspondence.md).
run: export INBOUND_DROP_FOLDER ?= $(CURDIR)/var/mail/inbox
# A first look needs no authenticator app: the demo users sign in with a password alone.
# Everywhere else managers and administrators must set up a second factor (docs/authentication.md).
run: export MFA_ENFORCED ?= 0
run: install
	mkdir -p var/celery/processed var/celery/control var/mail/inbox
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --demo
	@echo "Starting web, worker and beat on http://127.0.0.1:$(PORT)/  (Ctrl-C stops all three)"
	$(BIN)/honcho --procfile config/Procfile.dev --app-root . start

test: install test-deps lint
	$(BIN)/python -m pytest

# bandit reads [tool.bandit] in pyproject.toml; it needs no network, so the tests run it.
BANDIT := $(BIN)/bandit -c pyproject.toml -r accounts complaints reports config -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BANDIT)
	$(BIN)/lint-imports --no-logo --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules var

# The scale benchmark: BENCH_SIZE complaints (default 1,000,000) in a database of its own,
# redress_bench (or BENCH_DATABASE_URL), on a Redis database of its own; see tests/bench/.
bench: export DATABASE_URL = $(or $(BENCH_DATABASE_URL),postgres://postgres@127.0.0.1:5432/redress_bench)
bench: export REDIS_URL = $(or $(BENCH_REDIS_URL),redis://127.0.0.1:6379/15)
# DEBUG stays off, as in production, so the run needs a secret key of its own.
bench: export SECRET_KEY ?= $(shell $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')
bench: install
	$(BIN)/python -m tests.bench

# Known vulnerabilities in what .venv holds, from PyPI's advisory data; --strict fails when a
# package could not be looked up, so a network problem never passes for a clean audit.
# Not part of `make test`: it needs the network.
audit: install
	$(BANDIT)
	$(BIN)/pip-audit --skip-editable --strict --progress-spinner off

# The load test (tests/load/run.py): gunicorn with DEBUG off on a free 127.0.0.1 port, a
# database of its own, redress_load (or LOAD_DATABASE_URL), Redis database 12 (or
# LOAD_REDIS_URL), and locust in one process for LOAD_DURATION; exits 1 if any request failed.
# LOAD_USERS=10,20,40 runs each count in turn. Locust (and gevent) install only for this.
LOAD_USERS ?= 60
LOAD_DURATION ?= 60s
load: install $(VENV)/.load-installed
	$(BIN)/python tests/load/run.py --users $(LOAD_USERS) --duration $(LOAD_DURATION)

$(VENV)/.load-installed: pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,load]'
	touch $@

# Several hosts on this machine (tests/cluster/): network namespaces, HAProxy, PgBouncer, a
# PostgreSQL primary and standby of the test's own. Needs root. The trap removes whatever a
# run interrupted before its own clean-up left behind (tests/cluster/cleanup.py).
CLUSTER_PACKAGES := haproxy pgbouncer iproute2 redis-server
cluster-deps:
	@missing=""; for tool in haproxy pgbouncer ip redis-server; do \
		command -v $$tool >/dev/null || test -x /usr/sbin/$$tool || missing=yes; done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null; then \
			$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(CLUSTER_PACKAGES); \
		else \
			echo "make test-cluster needs $(CLUSTER_PACKAGES) and PostgreSQL's server binaries;"; \
			echo "this system has no apt-get: install them with its package manager."; exit 1; \
		fi; \
	fi
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(echo "make test-cluster needs PostgreSQL's server binaries in /usr/lib/postgresql/*/bin"; exit 1)
cluster-deps: SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

test-cluster: install cluster-deps
	@trap '$(BIN)/python -m tests.cluster.cleanup' EXIT; \
	$(BIN)/python -m pytest -m cluster tests/cluster -p no:cacheprovider

# The measured throughput in docs/scaling.md: 1, 2 and 3 web nodes behind HAProxy.
cluster-throughput: install cluster-deps
	@trap '$(BIN)/python -m tests.cluster.cleanup' EXIT; \
	$(BIN)/python -m tests.cluster.throughput
