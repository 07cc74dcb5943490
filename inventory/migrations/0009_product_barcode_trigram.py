"""`search` covers the barcode too: its trigram index, like the others (migration 0005), so the
search's BitmapOr still reads only the matching rows (PostgreSQL only)."""

from django.db import migrations

NAME = "inventory_product_barcode_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND NOT i.indisvalid",
            [NAME],
        )
        if cursor.fetchone() is not None:  # a failed CONCURRENTLY build: build it again
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} "
        'ON inventory_product USING gin (UPPER("barcode"::text) gin_trgm_ops)'
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inventory", "0008_product_view_costs_permission")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
