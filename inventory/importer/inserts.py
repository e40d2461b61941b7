"""INSERTs for bulk imports: one prepared statement executed for many rows, cheaper than ``bulk_create``.

``bulk_create`` compiles SQL per batch, value by value, and on SQLite is limited to 999 parameters
(about 40 devices per statement); executing one prepared statement for every row costs a fraction
of that CPU. Values go through each field's ``pre_save``/``get_db_prep_save``, as ``bulk_create``'s do.
"""

from __future__ import annotations

from django.db import connections, models, router

BATCH = 1000


def _values(fields: list[models.Field], obj: models.Model, connection) -> list:
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def _sql(connection, model: type[models.Model], fields: list[models.Field], placeholder: str) -> str:
    quote = connection.ops.quote_name
    return "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join([placeholder] * len(fields)),
    )


def _generated_pk(model: type[models.Model]) -> models.Field | None:
    pk = model._meta.pk
    return pk if pk.get_internal_type().endswith("AutoField") else None


def insert(model: type[models.Model], objs: list[models.Model]) -> None:
    """INSERT rows whose ids nobody needs back (change records, tag links)."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if f is not _generated_pk(model)]
    sql = _sql(connection, model, fields, "%s")
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH):
            cursor.executemany(sql, [_values(fields, obj, connection) for obj in objs[start : start + BATCH]])


def create(model: type[models.Model], objs: list[models.Model]) -> None:
    """INSERT new objects and give each its id, as ``bulk_create`` would.

    PostgreSQL: the ids are drawn from the table's sequence first (one query), then every row is
    inserted with its id by one prepared statement. SQLite: each row is inserted by the same prepared
    statement and takes the id SQLite gave it (the database is locked for writing meanwhile).
    """
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    pk = _generated_pk(model)
    if pk is None or connection.vendor not in ("postgresql", "sqlite"):
        model._default_manager.bulk_create(objs, batch_size=BATCH)
        return
    fields = [f for f in model._meta.concrete_fields if f is not pk]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk.column, len(objs)],
            )
            for obj, (value,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = value
        insert_with_pk = [pk, *fields]
        sql = _sql(connection, model, insert_with_pk, "%s")
        with connection.cursor() as cursor:
            for start in range(0, len(objs), BATCH):
                batch = objs[start : start + BATCH]
                cursor.executemany(sql, [_values(insert_with_pk, obj, connection) for obj in batch])
    else:
        connection.ensure_connection()
        sql = _sql(connection, model, fields, "?")
        # the DB-API cursor (Django's rewrites the SQL on every execute); errors still become Django's
        with connection.wrap_database_errors:
            cursor = connection.connection.cursor()
            try:
                for obj in objs:
                    cursor.execute(sql, _values(fields, obj, connection))
                    obj.pk = cursor.lastrowid
            finally:
                cursor.close()
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
