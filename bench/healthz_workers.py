"""``/healthz`` throughput with 2 workers divided by 1 worker (foundation issue, target >= 1.5).

The same load (wrk, keep-alive connections) runs against ``jati serve --workers 1`` and
``--workers 2``. A multi-worker server whose connections lack TCP_NODELAY stalls ~40 ms per
keep-alive response and lands far below 1 (see ``identity/service/server.py``).
"""

from __future__ import annotations

from bench.common import Figure, jati_server, wrk_requests_per_second


def run(*, quick: bool = False) -> list[Figure]:
    seconds = 3 if quick else 8
    rates: dict[int, float] = {}
    for workers in (1, 2):
        with jati_server(workers) as base:
            url = base + "/healthz"
            wrk_requests_per_second(url, seconds=1, connections=16, threads=1)  # warm-up
            rates[workers] = wrk_requests_per_second(
                url, seconds=seconds, connections=16, threads=1
            )
    return [
        Figure(
            "healthz rps, 2 workers / 1 worker",
            rates[2],
            rates[1],
            "req/s",
            target=1.5,
        )
    ]
