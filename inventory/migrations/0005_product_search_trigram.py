"""Trigram indexes for the product list's `search` (PostgreSQL only; nothing on SQLite).

Django's `icontains` on PostgreSQL is `UPPER(col::text) LIKE UPPER('%term%')`, which no B-tree
can serve: on a million products every search read the whole table. A pg_trgm GIN index on the
very same expressions lets PostgreSQL find the rows containing the term (a BitmapOr of the three
indexes), then keep the organization's. A term found in a large share of the table (a word of
every description) still reads those rows: the index cannot help there.

Built CONCURRENTLY (so the migration is not atomic): writes to products go on meanwhile.
"""

from django.db import migrations

from core.migration_operations import drop_if_invalid

INDEXES = {
    "inventory_product_name_trgm": 'UPPER("name"::text)',
    "inventory_product_sku_trgm": 'UPPER("sku"::text)',
    "inventory_product_description_trgm": 'UPPER("description")',
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        drop_if_invalid(schema_editor, name)
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
            f"ON inventory_product USING gin ({expression} gin_trgm_ops)"
        )
    # Statistics on the indexed expressions: without them the planner guesses how many rows a
    # term matches, until autovacuum happens to analyze the table again.
    schema_editor.execute("ANALYZE inventory_product")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inventory", "0004_product_shortfall_index"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
