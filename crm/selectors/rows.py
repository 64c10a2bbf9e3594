"""Model instances from a hand-written WHERE clause, for the hottest reads (the screen pop)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

Converter = Callable[[Any, Any, Any], Any]


def fetch(model: type[M], clause: str, params: Sequence[Any]) -> list[M]:
    """`SELECT <every column> FROM <model's table> <clause>` as instances of `model`.

    `clause` is SQL (WHERE, ORDER BY, LIMIT) with %s placeholders; pass parameters through
    `prep` when their database form differs by backend (UUIDs, times).

    Building and compiling a QuerySet costs more Python time than PostgreSQL spends on an
    indexed lookup: with this and the other changes of 2026-12-06 the screen pop's p99 went
    from 568-600 ms to 185-311 ms (docs/benchmarks-notebook.md). This keeps what the ORM
    gives a reader (instances with every column, converted by the fields' own database
    converters, so JSON, times and UUIDs come back as from a QuerySet) and drops the
    building: the SELECT is made once per model and clause.
    """
    sql, attnames, converters = _select(model, clause)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    alias = connection.alias
    found = []
    for row in rows:
        values = list(row)
        for index, expression, chain in converters:
            value = values[index]
            for convert in chain:
                value = convert(value, expression, connection)
            values[index] = value
        found.append(model.from_db(alias, attnames, values))
    return found


def prep(model: type[models.Model], field_name: str, value: Any) -> Any:
    """`value` as the database stores `model.field_name` (a hex string for a UUID on SQLite)."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.Field), f"{model.__name__}.{field_name} is not a column"
    return field.get_db_prep_value(value, connection)


@functools.cache
def _select(
    model: type[models.Model], clause: str
) -> tuple[str, list[str], list[tuple[int, Any, list[Converter]]]]:
    fields = model._meta.concrete_fields
    qn = connection.ops.quote_name
    table = model._meta.db_table
    columns = ", ".join(f"{qn(table)}.{qn(str(field.column))}" for field in fields)
    converters = []
    for index, field in enumerate(fields):
        expression = field.get_col(table)
        chain = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)
        if chain:
            converters.append((index, expression, chain))
    sql = f"SELECT {columns} FROM {qn(table)} {clause}"
    return sql, [field.attname for field in fields], converters
