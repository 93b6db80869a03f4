"""A lean INSERT for the rows every write adds (its event, its idempotency record).

`Model.objects.create` builds and compiles its SQL anew on each call, which costs more
than the insert itself on the hot path. Here the statement is built once per model and
column list; values still go through each field's own `get_db_prep_save`, so JSON,
dates and time zones are adapted exactly as the ORM would for the backend in use.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection, models


@lru_cache(maxsize=64)
def _statement(model: type[models.Model], names: tuple[str, ...], vendor: str) -> tuple[str, tuple]:
    meta = model._meta
    fields = tuple(meta.get_field(name) for name in names)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})", fields


def insert_row(model: type[models.Model], *, returning_pk: bool = False, **values) -> int | None:
    """INSERT one row (no signals; the new pk if asked); errors are Django's (IntegrityError…).

    Fields left out get no default from the model: pass every non-null column.
    """
    sql, fields = _statement(model, tuple(values), connection.vendor)
    params = [field.get_db_prep_save(values[field.name], connection) for field in fields]
    if returning_pk:
        sql += f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] if returning_pk else None
