"""A statement compiled for one database, run on the driver's connection.

SQLAlchemy gives the SQL of each statement in the database's dialect (compiled once per
store) and the conversion of values to and from columns; the statements run on the
driver's connection, so a write costs little more than the driver's own ``executemany``.
Reading the compiled statement's parameters relies on SQLAlchemy compiler internals,
named where :class:`_Prepared` uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import Select, TextualSelect


class _Prepared:
    """A statement compiled for one dialect, with its parameter and column conversions."""

    __slots__ = ("defaults", "get", "names", "positional", "processors", "results", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self.positional = dialect.positional
        # SQLAlchemy compiler internals (not public API; an upgrade may change them, which
        # tests/test_sql_store.py::test_prepared_statements_on_sqlalchemy_internals catches):
        # SQLCompiler.bind_names (each BindParameter -> its name in the SQL),
        # SQLCompiler.positiontup (the names in placeholder order, positional paramstyles) and
        # BindParameter.effective_value (the value of a bound literal, such as ``claimed=1``).
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        self.names: tuple[str, ...] = tuple(
            compiled.positiontup if dialect.positional and compiled.positiontup else by_name
        )
        self.defaults = {
            name: bind.effective_value for name, bind in by_name.items() if not bind.required
        }
        getter = itemgetter(*self.names) if self.names else (lambda _: ())
        self.get: Callable[[Mapping[str, Any]], Any] = (
            (lambda params: (getter(params),)) if len(self.names) == 1 else getter
        )
        self.processors = [
            (index, process)
            for index, name in enumerate(self.names)
            if (process := by_name[name].type.dialect_impl(dialect).bind_processor(dialect))
        ]
        self.results: list[Callable[[Any], Any] | None] = (
            [
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in statement.selected_columns
            ]
            if isinstance(statement, Select | TextualSelect)
            else []
        )

    def values(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters: a tuple (SQLite) or a dict (psycopg)."""
        if self.defaults:
            params = {**self.defaults, **params}
        found = self.get(params)
        if self.processors:
            found = list(found)
            for index, process in self.processors:
                found[index] = process(found[index])
        return tuple(found) if self.positional else dict(zip(self.names, found, strict=True))

    def rows(self, fetched: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        results = self.results
        if not any(results):
            return [tuple(row) for row in fetched]
        return [
            tuple(
                value if process is None else process(value)
                for process, value in zip(results, row, strict=True)
            )
            for row in fetched
        ]
