"""`?search=`'s relevance order read from indexes (issue 28), per organization:
`(organization_id, UPPER(name) text_pattern_ops)`: the names starting with the term (a range);
`(organization_id, array_length(show_trgm(UPPER(name)), 1), name, id)`: the names by trigram
count, then name, so the names that can be closest to a term are read first, each count in the
relevance order (inventory.selectors._closest_first).

PostgreSQL only (SQLite keeps the state, builds nothing). Built CONCURRENTLY (not atomic:
product writes go on meanwhile). Reversible: backwards drops them.
"""

from django.contrib.postgres.indexes import OpClass
from django.db import migrations, models
from django.db.models import F, Func, IntegerField, Value
from django.db.models.functions import Upper

from core.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inventory", "0017_search_indexes_per_organization")]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="product",
            index=models.Index(
                F("organization"),
                OpClass(Upper("name"), name="text_pattern_ops"),
                name="inv_prod_org_name_prefix",
            ),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="product",
            index=models.Index(
                F("organization"),
                Func(
                    Func(Upper("name"), function="show_trgm"),
                    Value(1),
                    function="array_length",
                    output_field=IntegerField(),
                ),
                F("name"),
                F("id"),
                name="inv_prod_org_name_trigrams",
            ),
        ),
    ]
