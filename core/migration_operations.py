"""Migration operations for PostgreSQL-only indexes built without blocking writes."""

from django.contrib.postgres.operations import AddIndexConcurrently, BtreeGinExtension


def drop_if_invalid(schema_editor, name):
    """A CONCURRENTLY build that failed leaves an invalid index behind: build it again."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND NOT i.indisvalid",
            [name],
        )
        invalid = cursor.fetchone() is not None
    if invalid:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """Django's operation (in a non-atomic migration), skipped on other databases (SQLite has
    neither GIN nor GiST nor trigrams)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        drop_if_invalid(schema_editor, self.index.name)
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class BtreeGinExtensionOnPostgreSQL(BtreeGinExtension):
    """Django's operation, skipped on other databases both ways (Django's own skips them going
    forwards only: migrating back on SQLite asked SQLite for pg_extension)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
