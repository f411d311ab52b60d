"""``jati keys list|rotate`` (the token signing keys) and ``jati secrets generate-master-key``
(the master key every other key is derived from or sealed with)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from identity.service.cli import common
from identity.service.settings import Settings

if TYPE_CHECKING:
    from identity.storage.keys import SqlKeyStore


def add_commands(commands: common.Commands) -> None:
    keys = common.add_group(commands, "keys", "token signing keys")
    keys_list = keys.add_parser("list", help="signing keys: next, active, retired")
    common.add_json_option(keys_list)
    keys_list.set_defaults(handler=_keys_list)
    keys.add_parser(
        "rotate",
        help="for each algorithm: retire the active key, promote the next one, create a new "
        "next one",
    ).set_defaults(handler=_keys_rotate)


def add_secret_commands(commands: common.Commands) -> None:
    common.add_group(commands, "secrets", "secret material").add_parser(
        "generate-master-key", help="print a new random master key for JATI_MASTER_KEY"
    ).set_defaults(handler=_generate_master_key)


@contextmanager
def _key_store(settings: Settings) -> Iterator[SqlKeyStore]:
    from identity.keys.signing_keys import KeySealer
    from identity.storage.keys import SqlKeyStore

    with common.checked_database_and_key(settings) as (database, master_key):
        yield SqlKeyStore(database=database, sealer=KeySealer(master_key))


def _keys_list(args: argparse.Namespace, settings: Settings) -> int:
    from identity.keys.signing_keys import SUPPORTED_ALGORITHMS

    with _key_store(settings) as store:
        now = datetime.now(UTC)
        store.ensure(SUPPORTED_ALGORITHMS, now=now)
        keys = store.list_keys()
    rows = [
        {
            "kid": k.kid,
            "alg": k.alg,
            "state": k.state.value,
            "published": k.published_at(now),
            "created_at": k.created_at.isoformat(),
            "publish_until": k.publish_until.isoformat() if k.publish_until else None,
        }
        for k in keys
    ]
    common.print_result(args.json, {"keys": rows}, map(_key_line, rows))
    return common.EXIT_OK


def _key_line(row: dict[str, Any]) -> str:
    until = f" until {row['publish_until']}" if row["publish_until"] else ""
    shown = "published" if row["published"] else "unpublished"
    return f"{row['state']:<8} {row['alg']:<7} {row['kid']}  {shown}{until}"


def _keys_rotate(_args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from identity.keys.signing_keys import SUPPORTED_ALGORITHMS

    with _key_store(settings) as store:
        now = datetime.now(UTC)
        store.ensure(SUPPORTED_ALGORITHMS, now=now)
        store.rotate(
            SUPPORTED_ALGORITHMS,
            now=now,
            publish_for=timedelta(seconds=settings.token_lifetime + 60),
        )
        active = [k for k in store.list_keys() if k.state.value == "active"]
    for key in active:
        print(f"active {key.alg:<7} {key.kid}")
    return common.EXIT_OK


def _generate_master_key(_args: argparse.Namespace, _settings: Settings) -> int:
    from identity.keys.master_key import generate_master_key

    print(generate_master_key())
    return common.EXIT_OK
