"""Prometheus metrics: requests and latency by route template, never by raw path.

Labels are the HTTP method, the route *template* (``/audit/proof/inclusion``, never a path
with an identifier in it) and the status code, so no personal data can reach a label.
With several workers, ``jati serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` and every worker's
samples are aggregated (prometheus_client multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "jati_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "jati_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

UNMATCHED_ROUTE = "<unmatched>"


#: (method, route, status) -> its counter and histogram children, so that a request costs
#: two dictionary look-ups fewer than ``labels()`` with its checks and lock (the label sets
#: are the ones Prometheus keeps anyway).
_CHILDREN: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe(method: str, route: str, status: int, seconds: float) -> None:
    children = _CHILDREN.get((method, route, status))
    if children is None:
        children = _CHILDREN[(method, route, status)] = (
            REQUESTS.labels(method, route, str(status)),
            LATENCY.labels(method, route),
        )
    children[0].inc()
    children[1].observe(seconds)


def exposition() -> tuple[bytes, str]:
    """The metrics in the Prometheus text format, aggregated over workers when needed."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
