"""`?search=`'s trigram indexes per organization (issue 28): `(organization_id, UPPER(field)
gin_trgm_ops)` GIN indexes through btree_gin, replacing the platform-wide ones of 0005 and 0009,
which made a small shop's search read every shop's matching rows.

PostgreSQL only (SQLite keeps the state, builds nothing). Built CONCURRENTLY, so the migration
is not atomic and product writes go on meanwhile; the new indexes are built before the old ones
go, so search is served throughout. Reversible: backwards builds the old ones again, then drops
these and the extension.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import migrations
from django.db.models import F
from django.db.models.functions import Upper

from core.migration_operations import (
    AddIndexConcurrentlyOnPostgreSQL,
    BtreeGinExtensionOnPostgreSQL,
    drop_if_invalid,
)

PLATFORM_WIDE = {
    "inventory_product_name_trgm": 'UPPER("name"::text)',
    "inventory_product_sku_trgm": 'UPPER("sku"::text)',
    "inventory_product_description_trgm": 'UPPER("description")',
    "inventory_product_barcode_trgm": 'UPPER("barcode"::text)',
}


def drop_platform_wide(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in PLATFORM_WIDE:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    schema_editor.execute("ANALYZE inventory_product")


def build_platform_wide(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, expression in PLATFORM_WIDE.items():
        drop_if_invalid(schema_editor, name)
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
            f"ON inventory_product USING gin ({expression} gin_trgm_ops)"
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inventory", "0016_product_last_counted_at")]

    operations = [
        BtreeGinExtensionOnPostgreSQL(),
        *(
            AddIndexConcurrentlyOnPostgreSQL(model_name="product", index=index)
            for index in (
                GinIndex(
                    F("organization"),
                    OpClass(Upper(field), name="gin_trgm_ops"),
                    name=f"inv_prod_org_{field}_trgm",
                )
                for field in ("name", "sku", "description", "barcode")
            )
        ),
        migrations.RunPython(drop_platform_wide, build_platform_wide, elidable=False),
    ]
