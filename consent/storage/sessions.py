"""What the consent package's SQL stores are given, and the transactions they share.

Every store works through a *session source* (:class:`SessionSource`): any object whose
``write()`` and ``read()`` open a SQLAlchemy session in a transaction that commits on success
and rolls back on error (Jati's ``identity.storage.database.Database`` is one; on SQLite its
writes begin with ``BEGIN IMMEDIATE``). A :class:`SessionStore` hands each such session to
the caller wrapped in its own transaction object.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Generic, Protocol, TypeVar

from sqlalchemy.orm import Session

__all__ = ["SessionSource", "SessionStore"]

_Transaction = TypeVar("_Transaction")


class SessionSource(Protocol):
    """Opens sessions in a transaction (``identity.storage.database.Database``)."""

    def write(self) -> AbstractContextManager[Session]: ...

    def read(self) -> AbstractContextManager[Session]: ...


class SessionStore(ABC, Generic[_Transaction]):
    """A store whose :meth:`write` and :meth:`read` open a transaction of ``database`` and
    yield it as the store's transaction object (:meth:`transaction`)."""

    def __init__(self, *, database: SessionSource) -> None:
        self.database = database

    @abstractmethod
    def transaction(self, session: Session) -> _Transaction:
        """The store's transaction object over ``session``."""

    @contextmanager
    def write(self) -> Iterator[_Transaction]:
        with self.database.write() as session:
            yield self.transaction(session)

    @contextmanager
    def read(self) -> Iterator[_Transaction]:
        with self.database.read() as session:
            yield self.transaction(session)
