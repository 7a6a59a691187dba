# syntax=docker/dockerfile:1

# Stage 1: the front-end libraries, exactly as package-lock.json pins them.
# Only node_modules leaves this stage; the final image carries no Node.js.
FROM node:20-slim AS frontend
WORKDIR /frontend
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# Stage 2: the customers' languages compiled (msgfmt, as manage.py compilemessages runs it),
# so the final image carries no gettext.
FROM debian:bookworm-slim AS messages
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
COPY locale /messages
RUN for po in /messages/*/LC_MESSAGES/django.po; do msgfmt --check-format -o "${po%.po}.mo" "$po"; done

# Stage 3: one application image for web, worker, beat and migrate.
FROM python:3.11-slim

# PYTHONPATH: the code runs from /app, because settings derive BASE_DIR (templates, static
# files, var/) from where config/ lives. VAR_DIR holds what the app writes at run time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    VAR_DIR=/app/var

# WeasyPrint (letters to customers, as PDF) lays text out with Pango, and needs a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --user-group --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app

# Dependencies first, from pyproject.toml alone, so editing code does not reinstall them.
# Without the package directories, `pip install .` builds a metadata-only "redress" wheel:
# it installs the pinned dependencies and no second copy of the code in site-packages.
COPY pyproject.toml /tmp/redress/
RUN pip install --no-cache-dir /tmp/redress && rm -rf /tmp/redress

COPY . .
COPY --from=frontend /frontend/node_modules ./node_modules
COPY --from=messages /messages/ ./locale/

# With DEBUG off, WhiteNoise's manifest storage serves only collected, hashed files, so collect
# them into the image (STATIC_ROOT is /app/var/static). Settings need a key and a database URL
# to load (with DEBUG off, a strong key); collectstatic uses neither, so throwaway values are
# set for this command only.
# The code and static files stay root-owned (read-only to the app); the app user owns only
# the directories it writes: /app/var (beat schedule) and /app/var/attachments.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" DATABASE_URL=sqlite:////tmp/build.sqlite3 \
        python manage.py collectstatic --no-input \
    && mkdir -p /app/var/attachments \
    && chown app:app /app/var /app/var/attachments

USER app

# Persist attachments only. A volume over the whole of /app/var would hide the static files
# of a newer image behind the copy made when the volume was first created.
VOLUME ["/app/var/attachments"]

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
