"""Run the benchmarks: ``python -m bench [NAME ...] [--quick]``; prints one ratio per line."""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = {
    "healthz": "bench.healthz_workers",
    "audit": "bench.audit_log",
    "tokens": "bench.tokens",
    "passwords": "bench.passwords",
    "consent": "bench.consent_gate",
    "oidc": "bench.oidc_flow",
    "presentations": "bench.presentations",
    "statuslists": "bench.status_lists",
    "clientflood": "bench.client_auth_flood",
    "citizen_import": "bench.citizen_import",
    "passkeys": "bench.passkeys",
    "activity_page": "bench.activity_page",
    "auditor_search": "bench.auditor_search",
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "names",
        nargs="*",
        choices=[*BENCHMARKS, []],
        metavar="NAME",
        help=f"which to run (default all): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--quick", action="store_true", help="shorter runs, noisier figures")
    args = parser.parse_args()
    missed = 0
    for name in args.names or list(BENCHMARKS):
        module = importlib.import_module(BENCHMARKS[name])
        print(f"== {name}", flush=True)
        for figure in module.run(quick=args.quick):
            print(figure.line(), flush=True)
            missed += figure.met is False
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
