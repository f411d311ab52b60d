"""``jati serve`` (the service) and ``jati demo`` (development only: the service with a demo
citizen and an example relying app)."""

from __future__ import annotations

import argparse

from identity.service.cli import common
from identity.service.settings import Settings


def add_commands(commands: common.Commands) -> None:
    serve = commands.add_parser("serve", help="run the service (zero configuration on SQLite)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=_workers, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--forwarded-allow-ips",
        type=_forwarded_allow_ips,
        metavar="IPS",
        help="reverse proxies whose X-Forwarded-For is believed, comma-separated addresses or "
        "networks, * for every peer (default: JATI_FORWARDED_ALLOW_IPS, else none)",
    )
    serve.set_defaults(handler=_serve)

    demo = commands.add_parser(
        "demo", help="development only: Jati with a demo citizen and an example relying app"
    )
    demo.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    demo.add_argument("--port", type=_port, default=8000, help="Jati's port (default 8000)")
    demo.add_argument("--app-port", type=_port, default=8001, help="the app's (default 8001)")
    demo.add_argument(
        "--setup-only", action="store_true", help="create the demo data, print it, do not serve"
    )
    demo.set_defaults(handler=_demo)


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError("a port is between 1 and 65535")
    return port


def _forwarded_allow_ips(value: str) -> str:
    from identity.service.settings import parse_forwarded_allow_ips

    try:
        return parse_forwarded_allow_ips(value) or ""
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _workers(value: str) -> int:
    workers = int(value)
    if not 1 <= workers <= 64:
        raise argparse.ArgumentTypeError("--workers is between 1 and 64")
    return workers


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from identity.service.server import ServeOptions, run

    options = ServeOptions(
        host=args.host,
        port=args.port,
        workers=args.workers,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    run(settings, options)
    return common.EXIT_OK


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from identity.service.demo import DemoOptions, run

    options = DemoOptions(
        host=args.host, port=args.port, app_port=args.app_port, setup_only=args.setup_only
    )
    run(settings, options)
    return common.EXIT_OK
