"""`?search=`'s relevance order from an index (issue 28): a GiST trigram index on
`(organization_id, UPPER(name) gist_trgm_ops)` (the organization through btree_gist) yields a
shop's names nearest to the term first (`ORDER BY UPPER(name) <-> TERM`, k-nearest), with the
LIKE as its index condition, so a page of a common word reads its page, not every match.

PostgreSQL only (SQLite keeps the state, builds nothing). Built CONCURRENTLY (not atomic:
product writes go on meanwhile). Reversible: backwards drops the index and the extension.
"""

from django.contrib.postgres.indexes import GistIndex, OpClass
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations
from django.db.models import F
from django.db.models.functions import Upper

from core.migration_operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inventory", "0017_search_indexes_per_organization")]

    operations = [
        BtreeGistExtension(),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="product",
            index=GistIndex(
                F("organization"),
                OpClass(Upper("name"), name="gist_trgm_ops"),
                name="inv_prod_org_name_gist_trgm",
            ),
        ),
    ]
