# The same install as the README: the pinned constraints, then the package.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SEXTO_ENVIRONMENT=production

RUN useradd --create-home --uid 10001 sexto
WORKDIR /app

COPY pyproject.toml constraints.txt alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && chown -R sexto:sexto /app

USER sexto
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"

# Migrations first, then the server.  SEXTO_DATABASE_URL, the token and audit
# signing keys, the data keys and the audit witness (SEXTO_AUDIT_WITNESS, on a
# volume the database administrators cannot rewrite) must be given:
# production refuses to start without them.  uvicorn believes no X-Forwarded-For (its default believes any
# local peer): the app does, from the proxies named in SEXTO_TRUSTED_PROXIES.
CMD ["sh", "-c", "sexto migrate && exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port 8000 --workers 2 --no-proxy-headers --no-access-log"]
