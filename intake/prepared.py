"""Statements on the hot path of every submission, compiled once per dialect.

SQLAlchemy caches compiled SQL, but still builds the statement object, coerces its clauses
and computes a cache key on every execution: about as much CPU as the rest of storing a text.
A ``Prepared`` statement is built once (at import, or once per Store), compiled once for each
dialect and driver it meets, then handed to the driver as plain SQL with its parameters. Only
for statements whose shape never changes (no ``IN`` lists); the results are the driver's own
values (SQLite gives 0/1 for booleans).
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Connection, CursorResult, Dialect
from sqlalchemy.sql import ClauseElement


class Prepared:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _compile(self, connection: Connection) -> tuple[str, tuple[str, ...] | None, dict]:  # type: ignore[type-arg]
        return self._compiled_for(connection.dialect)

    def _compiled_for(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict]:  # type: ignore[type-arg]
        key = f"{dialect.name}+{dialect.driver}:{dialect.paramstyle}"
        entry = self._compiled.get(key)
        if entry is None:
            with self._lock:
                compiled = self.statement.compile(dialect=dialect)
                names = compiled.positiontup
                entry = (
                    str(compiled),
                    tuple(names) if names is not None else None,
                    dict(compiled.params),
                )
                self._compiled[key] = entry
        return entry

    def __call__(self, connection: Connection, **params: Any) -> CursorResult[Any]:
        sql, names, defaults = self._compile(connection)
        values = {**defaults, **params} if defaults else params
        if names is not None:
            return connection.exec_driver_sql(sql, tuple(values[name] for name in names))
        return connection.exec_driver_sql(sql, values)

    def run(self, cursor: Any, dialect: Dialect, **params: Any) -> Any:
        """Executes on a DBAPI cursor of ``dialect`` (intake/registrar.py); returns it."""
        sql, names, defaults = self._compiled_for(dialect)
        values = {**defaults, **params} if defaults else params
        cursor.execute(sql, tuple(values[name] for name in names) if names is not None else values)
        return cursor
