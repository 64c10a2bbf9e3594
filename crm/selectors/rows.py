"""Model instances from a hand-written WHERE clause, or from a QuerySet compiled once, for the
hottest reads (the screen pop)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connection, models
from django.db.models import QuerySet

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


@dataclass(frozen=True, slots=True)
class Template(Generic[M]):
    """A QuerySet's WHERE and ORDER BY as SQL, with the parameters that vary left as slots."""

    model: type[M]
    clause: str
    params: tuple[tuple[str | None, Any], ...]  # (slot, None) or (None, constant)
    fields: Mapping[str, str]  # slot -> the field whose database form its value takes

    def fetch(self, values: Mapping[str, Any]) -> list[M]:
        prepped = {
            slot: prep(self.model, field, values[slot]) for slot, field in self.fields.items()
        }
        return fetch(self.model, self.clause, [prepped[s] if s else c for s, c in self.params])


def template(queryset: QuerySet[M], slots: Mapping[str, tuple[str, Any]]) -> Template[M]:
    """`queryset` compiled once, to be run many times with other values in its slots.

    `slots` names each value that varies: slot -> (field name, a stand-in value used only to
    build `queryset`, each one distinct). The rule stays written once, as a QuerySet; what the
    hot path saves is building and compiling it, which costs several times what PostgreSQL
    spends on the indexed read (docs/benchmarks-notebook.md).
    """
    model = queryset.model
    sql, compiled = queryset.query.sql_with_params()
    select = _select(model, "")[0]
    assert sql.startswith(select), f"{model.__name__}: not a plain SELECT of every column"
    stand_ins = {slot: prep(model, field, value) for slot, (field, value) in slots.items()}
    params: list[tuple[str | None, Any]] = []
    for value in compiled:
        slot = next((s for s, stand_in in stand_ins.items() if stand_in == value), None)
        params.append((slot, None) if slot else (None, value))
    fields = {slot: field for slot, (field, _) in slots.items()}
    return Template(model, sql[len(select) :].strip(), tuple(params), fields)


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
