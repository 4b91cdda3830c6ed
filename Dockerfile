# The service's image (docs/deploying.md).  Three stages: the first builds the
# package's wheel from the sources; the second builds the web app (web/, its
# pinned packages from the lock, no install scripts); the last installs that
# wheel, not editable, with the pinned constraints, takes the built app, and
# runs as a user that owns none of the code it runs.  tests/test_image_steps.py takes these same steps without
# containers, and tests/test_container_files.py checks what is said here.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt ./
COPY app ./app
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM node:20-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY web ./
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SEXTO_ENVIRONMENT=production \
    SEXTO_WEB_DIST=/opt/sexto/web \
    PROMETHEUS_MULTIPROC_DIR=/tmp/sexto-metrics

COPY --from=build /dist /dist
COPY --from=web /src/web/dist /opt/sexto/web
COPY constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir -c /tmp/constraints.txt /dist/*.whl \
    && rm -rf /dist /tmp/constraints.txt \
    && useradd --system --no-create-home --uid 10001 --user-group sexto \
    && mkdir -p /var/lib/sexto/witness \
    && chown sexto:sexto /var/lib/sexto/witness

USER sexto
WORKDIR /var/lib/sexto
EXPOSE 8000

# Ready, not just up: /readyz answers 503 while the database is away, the
# schema is behind, or a data key does not decrypt what is stored.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"]

# Serves only.  Migrating is a one-shot job of its own, as the database's
# owner: `sexto db create-app-role` then `sexto migrate` (compose.yaml).  The
# service connects as the application role (SEXTO_DATABASE_URL_FILE) and needs
# the token and audit signing keys, the data keys and the audit witness:
# production refuses to start without them.  uvicorn believes no
# X-Forwarded-For (its default believes any local peer): the app does, from
# the proxies named in SEXTO_TRUSTED_PROXIES.  Its access log would write raw
# paths: the service writes one JSON line per request instead.
CMD ["uvicorn", "app.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--no-proxy-headers", "--no-access-log"]
