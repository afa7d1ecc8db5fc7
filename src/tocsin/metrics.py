"""Prometheus metrics of one tocsin process, served at ``/metrics``.

One ``Metrics`` object per process, built by the edge and passed to the API and the engine,
with its own registry (no global default registry, so tests can build many apps).
Later capabilities add their counters here, so every figure an operator watches is listed
in one file.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.db.availability import Availability


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.http_requests = Counter(
            "tocsin_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "tocsin_http_request_duration_seconds",
            "Time to answer HTTP requests, by route template.",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )

        self.engine_tick = Histogram(
            "tocsin_engine_module_seconds",
            "Time one engine module took for one tick.",
            ["module"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.engine_rows = Counter(
            "tocsin_engine_rows",
            "Rows engine modules claimed, by module and outcome (applied, skipped, failed).",
            ["module", "outcome"],
            registry=self.registry,
        )
        self.engine_errors = Counter(
            "tocsin_engine_module_errors",
            "Engine module ticks that failed as a whole (the module is retried next tick).",
            ["module"],
            registry=self.registry,
        )
        self.escalation_lag = Histogram(
            "tocsin_escalation_lag_seconds",
            "Delay between an escalation step's due time and the engine applying it.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
            registry=self.registry,
        )

        self.notifications = Counter(
            "tocsin_notifications",
            "Provider calls for deliveries, by channel and outcome (sent, delivered, retry, "
            "unknown, failed).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.notification_unreachable = Counter(
            "tocsin_notification_unreachable",
            "Pages for which every channel of the paged person failed (or none existed).",
            registry=self.registry,
        )
        self.operations_incidents = Counter(
            "tocsin_operations_incidents",
            "Incidents opened on the operations service because someone could not be reached.",
            registry=self.registry,
        )

        self.database_up = Gauge(
            "tocsin_database_up",
            "1 while this process can reach PostgreSQL, 0 during an outage it has seen.",
            registry=self.registry,
        )
        self.database_up.set(1)
        self.database_since_success = Gauge(
            "tocsin_database_seconds_since_success",
            "Seconds since this process last completed a database transaction (NaN before "
            "the first).",
            registry=self.registry,
        )
        self.database_since_success.set(float("nan"))

    def watch_database(self, availability: Availability) -> None:
        """Read the database gauges from ``availability`` whenever they are scraped."""
        self.database_up.set_function(lambda: 1.0 if availability.up else 0.0)
        self.database_since_success.set_function(availability.seconds_since_success)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            # The template ("/api/v1/users/{user_id}"), never the raw path: raw paths would
            # make one time series per id and per scanner probe.
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.http_requests.labels(template, scope["method"], str(status)).inc()
            self.metrics.http_duration.labels(template).observe(time.perf_counter() - started)
