"""The database cache's table, made by `migrate` (no `createcachetable` step to forget).

Without Redis, throttle counters and cached list counts live in this table; with Redis it
stays empty, ready for the day Redis is taken away. A table made earlier by
`createcachetable` is kept as it is.
"""

from django.conf import settings
from django.db import migrations


def create_cache_table(apps, schema_editor):
    from django.core.management.commands.createcachetable import Command

    command = Command()
    command.verbosity = 0
    command.create_table(
        schema_editor.connection.alias, settings.DATABASE_CACHE_TABLE, dry_run=False
    )


def drop_cache_table(apps, schema_editor):
    table = schema_editor.quote_name(settings.DATABASE_CACHE_TABLE)
    schema_editor.execute(f"DROP TABLE IF EXISTS {table}")


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
