"""OpenTelemetry traces, when the standard ``OTEL_`` variables ask for them.

Off unless ``OTEL_TRACES_EXPORTER`` names an exporter (``otlp``, over
HTTP/protobuf, or ``console``) or an OTLP endpoint is given
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``);
``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` keeps them off.
Off, nothing of OpenTelemetry is imported and nothing is added to a request.

On, each request has a span named by its method and route *template*
(``GET /api/v1/cases/{case_id}``) and each SQL statement one of its own
(the statement's text, never its parameters).  Every span passes through
``RedactingProcessor`` before any exporter sees it: only the attributes of
``KEPT_ATTRIBUTES`` are kept, so the raw path and its ids, the query
string, the client's address and user agent never leave; an exception
keeps its type only (a message may quote a value), a status its code only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from fastapi import FastAPI
from sqlalchemy import Engine

if TYPE_CHECKING:  # imported only when traces are on
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

SERVICE_NAME = "sexto-service"

# What a span may carry to the tracing backend: methods, route templates,
# status codes, the database's kind and name, a statement's text (its
# parameters are never recorded), an error's type.
KEPT_ATTRIBUTES = frozenset(
    {
        "http.method",
        "http.request.method",
        "http.route",
        "http.status_code",
        "http.response.status_code",
        "http.scheme",
        "url.scheme",
        "http.flavor",
        "network.protocol.version",
        "db.system",
        "db.system.name",
        "db.name",
        "db.namespace",
        "db.operation",
        "db.operation.name",
        "db.statement",
        "db.query.text",
        "error.type",
        "exception.type",
    }
)


def traces_wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the ``OTEL_`` variables ask for traces (module docstring)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters:
        return exporters != "none"
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def _exporters(environ: Mapping[str, str]) -> list[SpanExporter]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names (``otlp`` when only an
    endpoint is given); each reads its own ``OTEL_EXPORTER_OTLP_*``
    variables."""
    names = [name.strip() for name in environ.get("OTEL_TRACES_EXPORTER", "otlp").lower().split(",") if name.strip()]
    exporters: list[SpanExporter] = []
    for name in names:
        if name == "otlp":
            protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
            )
            if protocol != "http/protobuf":
                raise RuntimeError(
                    f"OTEL_EXPORTER_OTLP_PROTOCOL {protocol!r}: the service exports traces over http/protobuf only"
                )
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        elif name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        else:
            raise RuntimeError(f"OTEL_TRACES_EXPORTER {name!r}: the service knows otlp, console and none")
    return exporters


class Tracing:
    """The process's tracer provider, and what it instruments."""

    def __init__(self, exporters: list[SpanExporter], *, batch: bool = True) -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read here; the
        # service's name is the default.
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME})
        self.provider: TracerProvider = TracerProvider(resource=resource)
        for exporter in exporters:
            inner = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
            self.provider.add_span_processor(redacting(inner))

    def instrument_app(self, app: FastAPI) -> None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        # No span per ASGI message (send, receive): one per request.
        FastAPIInstrumentor.instrument_app(app, tracer_provider=self.provider, exclude_spans=["receive", "send"])

    def instrument_engine(self, engine: Engine) -> None:
        """A span per statement of this engine.  The instrumentor's own
        ``instrument()`` would also patch ``create_engine`` for the whole
        process; its engine tracer alone instruments this engine only."""
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
        from opentelemetry.instrumentation.sqlalchemy.version import __version__
        from opentelemetry.metrics import NoOpMeterProvider

        tracer = self.provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__)
        usage = NoOpMeterProvider().get_meter("sexto").create_up_down_counter("db.client.connections.usage")
        EngineTracer(tracer, engine, usage)  # type: ignore[no-untyped-call]

    def shutdown(self) -> None:
        """Export what is pending, then stop."""
        self.provider.shutdown()


def redacting(inner: SpanProcessor) -> SpanProcessor:
    """``inner``, given each ended span with only what may leave (module docstring)."""
    from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
    from opentelemetry.trace import Status

    def kept(attributes: Mapping[str, object] | None) -> dict[str, object]:
        return {key: value for key, value in (attributes or {}).items() if key in KEPT_ATTRIBUTES}

    class RedactingProcessor(SpanProcessor):
        def on_start(self, span: Span, parent_context: Context | None = None) -> None:
            inner.on_start(span, parent_context=parent_context)

        def on_end(self, span: ReadableSpan) -> None:
            inner.on_end(
                ReadableSpan(
                    name=span.name,
                    context=span.context,
                    parent=span.parent,
                    resource=span.resource,
                    attributes=kept(span.attributes),  # type: ignore[arg-type]
                    events=[Event(event.name, kept(event.attributes), event.timestamp) for event in span.events],  # type: ignore[arg-type]
                    links=span.links,
                    kind=span.kind,
                    status=Status(span.status.status_code),
                    start_time=span.start_time,
                    end_time=span.end_time,
                    instrumentation_scope=span.instrumentation_scope,
                )
            )

        def shutdown(self) -> None:
            inner.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return inner.force_flush(timeout_millis)

    return RedactingProcessor()


def tracing_from_environment(
    exporter: SpanExporter | None = None, environ: Mapping[str, str] = os.environ
) -> Tracing | None:
    """The process's ``Tracing`` when traces are wanted (None otherwise);
    ``exporter``, when given (the tests' in-memory one), is used alone and
    spans are handed to it as each ends."""
    if exporter is not None:
        return Tracing([exporter], batch=False)
    if not traces_wanted(environ):
        return None
    return Tracing(_exporters(environ))
