"""`?search=` on products: the relevance rule without `ordering`, an explicit `ordering` kept,
the organization's products only, and the per-organization trigram indexes' migration."""

import itertools
import re
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext

from core.api import LargeListPaginator
from inventory import selectors
from inventory.models import Product
from tests.factories import ProductFactory

URL = "/api/products/"


def skus(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["sku"] for row in response.json()["results"]]


@pytest.fixture
def milk_shelf(organization):
    """Products that all match "milk", one of each relevance tier."""
    for sku, name, barcode in [
        ("CHOC-1", "Chocolate milk drink", None),  # contains the word
        ("OAT-9", "Oat drink, milk style", None),  # contains it, further from "milk"
        ("MILKSHAKE", "Banana shake", None),  # the SKU contains it (not exact)
        ("M-2", "Milk 2 L", None),  # name starts with it
        ("M-1", "Milk 1 L", None),  # starts with it
        ("MILK", "Semi-skimmed", None),  # exact SKU, other case below
        ("B-7", "Yoghurt", "milk"),  # exact barcode
    ]:
        ProductFactory(organization=organization, sku=sku, name=name, barcode=barcode)
    ProductFactory(organization=organization, sku="BREAD", name="Bread")  # no match


@pytest.mark.django_db
def test_search_without_ordering_puts_exact_codes_then_names_starting_with_it_first(
    admin_client, milk_shelf, on_postgres
):
    found = skus(admin_client.get(URL, {"search": "MILK"}))

    assert sorted(found[:2]) == ["B-7", "MILK"]  # exact SKU or barcode, by name
    assert found[:2] == ["MILK", "B-7"]  # "Semi-skimmed" < "Yoghurt"
    assert found[2:4] == ["M-1", "M-2"]  # names starting with the word, by name
    assert sorted(found[4:]) == ["CHOC-1", "MILKSHAKE", "OAT-9"]
    if on_postgres:  # the closest names first: pg_trgm's similarity
        assert found[4] == "CHOC-1"
        assert found[-1] == "MILKSHAKE"  # its name holds nothing of the word
    else:  # SQLite: by name
        assert found[4:] == ["MILKSHAKE", "CHOC-1", "OAT-9"]


@pytest.mark.django_db
def test_an_explicit_ordering_is_kept_with_a_search(admin_client, milk_shelf):
    found = skus(admin_client.get(URL, {"search": "milk", "ordering": "-sku"}))

    assert found == ["OAT-9", "MILKSHAKE", "MILK", "M-2", "M-1", "CHOC-1", "B-7"]


@pytest.mark.django_db
def test_an_unknown_ordering_with_a_search_still_ranks_by_relevance(admin_client, milk_shelf):
    found = skus(admin_client.get(URL, {"search": "milk", "ordering": "colour"}))

    assert found[:4] == ["MILK", "B-7", "M-1", "M-2"]


@pytest.mark.django_db
def test_without_a_search_the_default_order_is_the_name(admin_client, milk_shelf):
    found = skus(admin_client.get(URL))

    assert found[0] == "MILKSHAKE"  # "Banana shake"
    assert found[1] == "BREAD"


@pytest.mark.django_db
def test_relevance_pages_do_not_overlap(admin_client, milk_shelf):
    pages = [
        skus(admin_client.get(URL, {"search": "milk", "page_size": 3, "page": n}))
        for n in (1, 2, 3)
    ]

    assert sum(pages, []) == skus(admin_client.get(URL, {"search": "milk"}))


@pytest.mark.django_db
def test_search_reads_only_the_callers_organization(
    admin_client, other_admin_client, organization, other_organization
):
    ProductFactory(organization=organization, sku="OURS", name="Milk ours", barcode="111")
    ProductFactory(organization=other_organization, sku="MILK", name="Milk theirs", barcode="milk")

    assert skus(admin_client.get(URL, {"search": "milk"})) == ["OURS"]
    assert skus(admin_client.get(URL, {"search": "theirs"})) == []
    assert skus(other_admin_client.get(URL, {"search": "milk"})) == ["MILK"]
    export = admin_client.get(f"{URL}export/", {"search": "milk"})
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "OURS" in body and "theirs" not in body


@pytest.mark.django_db
def test_search_keeps_its_query_count(admin_client, milk_shelf, django_assert_max_num_queries):
    admin_client.get(URL)  # the session's first request reads the user and organization
    with django_assert_max_num_queries(4):
        skus(admin_client.get(URL, {"search": "milk"}))


# --- a large result: read tier by tier, in the same order -----------------------------------


@pytest.fixture
def steel_catalogue(organization, other_organization):
    """A word in every tier and in every field, with ties in the name's distance and in the name;
    the other shop holds the same products (and its own exact code)."""
    rows = [
        ("STEEL", "Plain hook", None, ""),  # exact SKU
        ("HOOK-9", "Bracket", "steel", ""),  # exact barcode
        ("STEEL-2", "Wire", None, ""),  # SKU contains it
        ("DESC-1", "Bolt", None, "Made of steel"),  # description only
        ("BAR-1", "Nut", "8STEEL8", ""),  # barcode contains it
        ("DASH-STEEL", "--", None, ""),  # a name without trigrams: 0 similar
        ("ST-1", "St", None, "steel"),  # a name shorter than the term
        ("ST-2", "Hardsteel", None, ""),  # holds the word, not as a word
    ]
    rows += [(f"S-{i}", f"Steel shelf {i % 4}", None, "") for i in range(6)]  # starts; ties
    rows += [(f"S-{i}", "Steel", None, "") for i in range(6, 9)]  # the nearest: same name
    rows += [(f"C-{i}", f"{'Green ' * (i % 3)}steel pan {i % 5}", None, "") for i in range(12)]
    rows += [(f"D-{i}", "Pan", None, f"steel {i}") for i in range(4)]  # description only
    for shop in (organization, other_organization):
        for sku, name, barcode, description in rows:
            ProductFactory(
                organization=shop, sku=sku, name=name, barcode=barcode, description=description
            )
    ProductFactory(organization=other_organization, sku="STEELY", name="Steel theirs")
    ProductFactory(organization=organization, sku="IRON", name="Iron pan")  # no match


def rank_by_tiers(monkeypatch, *, budget=1.0):
    """Every result is "large": read tier by tier, never ranked whole (unless past `budget`)."""
    monkeypatch.setattr(LargeListPaginator, "few_rows", 0)
    monkeypatch.setattr(selectors, "RANKED_WHOLE", 0)
    monkeypatch.setattr(selectors, "CLOSEST_BUDGET", budget)
    cache.clear()  # (no count kept from a whole ranking)


def all_pages(client, params, page_size) -> list[str]:
    found, page = [], 1
    while True:
        response = client.get(URL, {**params, "page_size": page_size, "page": page})
        found += skus(response)
        if response.json()["next"] is None:
            return found
        page += 1


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("term", ["steel", "STEEL", "steel pan", "hook", "8", "st"])
@pytest.mark.parametrize("budget", [1.0, -1.0])  # (-1: given up at once, every match ranked)
def test_a_large_result_is_read_tier_by_tier_in_the_same_order(
    admin_client, steel_catalogue, monkeypatch, term, budget
):
    ranked_whole = all_pages(admin_client, {"search": term}, page_size=500)
    rank_by_tiers(monkeypatch, budget=budget)

    with CaptureQueriesContext(connection) as captured:
        first = skus(admin_client.get(URL, {"search": term, "page_size": 4}))
    assert any("show_trgm" in q["sql"] for q in captured.captured_queries)  # by trigram counts
    assert first == ranked_whole[:4]
    for page_size in (1, 3, 7, 50):
        assert all_pages(admin_client, {"search": term}, page_size) == ranked_whole
    assert "STEELY" not in ranked_whole  # another shop's product is never found


def walks(monkeypatch) -> list[bool]:
    """Whether each walk of the closest names gave up (and every match was ranked instead)."""
    real, gave_up = selectors._closest_first, []

    def spy(*args, **kwargs):
        found = real(*args, **kwargs)
        gave_up.append(found is None)
        return found

    monkeypatch.setattr(selectors, "_closest_first", spy)
    return gave_up


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_busy_machine_does_not_make_a_page_rank_every_match(
    admin_client, steel_catalogue, monkeypatch
):
    """The walk's limit counts groups ranked whole, not time: a machine so busy that each look
    at the clock finds it 60 ms later still reads the page tier by tier (a time limit gave up
    more often the busier the machine, and ranking every match made it busier still)."""
    ranked_whole = all_pages(admin_client, {"search": "steel"}, page_size=500)
    rank_by_tiers(monkeypatch, budget=selectors.CLOSEST_BUDGET)  # the limits as they are
    ticks = itertools.count()
    monkeypatch.setattr(selectors, "time", SimpleNamespace(monotonic=lambda: next(ticks) * 0.06))
    gave_up = walks(monkeypatch)

    pages = [
        skus(admin_client.get(URL, {"search": "steel", "page_size": 3, "page": page}))
        for page in (1, 2)
    ]
    assert pages[0] + pages[1] == ranked_whole[:6]
    assert gave_up == [False, False]


@pytest.mark.postgres
@pytest.mark.django_db
def test_past_its_limit_of_groups_ranked_whole_the_walk_ranks_every_match(
    admin_client, steel_catalogue, monkeypatch
):
    ranked_whole = all_pages(admin_client, {"search": "st"}, page_size=500)
    rank_by_tiers(monkeypatch)
    monkeypatch.setattr(selectors, "CLOSEST_RANKED_GROUPS", 0)
    gave_up = walks(monkeypatch)

    assert all_pages(admin_client, {"search": "st"}, page_size=3) == ranked_whole
    assert any(gave_up)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_large_result_keeps_the_relevance_rule(admin_client, steel_catalogue, monkeypatch):
    rank_by_tiers(monkeypatch)

    found = all_pages(admin_client, {"search": "steel"}, page_size=5)

    assert found[:2] == ["HOOK-9", "STEEL"]  # exact barcode, exact SKU: by name
    assert found[2:5] == ["S-6", "S-7", "S-8"]  # "Steel" itself: the nearest name, then by id
    starting = {f"S-{i}" for i in range(6)} | {"C-0", "C-3", "C-6", "C-9"}  # "steel pan 0"
    assert set(found[5:15]) == starting  # the other names starting with it
    same_name = found.index("S-0")  # "Steel shelf 0" twice: by id
    assert found[same_name : same_name + 2] == ["S-0", "S-4"]
    rest = {"DESC-1", "STEEL-2", "BAR-1", "D-0", "C-1", "ST-1", "ST-2", "DASH-STEEL"}
    assert set(found[15:]) >= rest
    assert "IRON" not in found and "STEELY" not in found
    assert len(found) == 2 + 9 + 3 + 12 + 4 + 3


# --- the migration: per-organization trigram indexes, built concurrently, reversible --------

BEFORE = ("inventory", "0016_product_last_counted_at")
AFTER = ("inventory", "0017_search_indexes_per_organization")
PER_ORGANIZATION = [f"inv_prod_org_{f}_trgm" for f in ("name", "sku", "description", "barcode")]
PLATFORM_WIDE = [f"inventory_product_{f}_trgm" for f in ("name", "sku", "description", "barcode")]


def migrate_to(*targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(list(targets))


def migrate_to_latest():
    migrate_to(*MigrationExecutor(connection).loader.graph.leaf_nodes())


def product_indexes(condition: str) -> dict[str, str]:
    """The product table's indexes (name: definition) that meet an SQL `condition` on
    pg_indexes' columns."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            f"WHERE tablename = 'inventory_product' AND {condition}"
        )
        return dict(cursor.fetchall())


def trigram_indexes() -> dict[str, str]:
    return product_indexes("indexdef LIKE '%%gin_trgm_ops%%'")


def operations_of(migration_key) -> list[str]:
    """A migration's operations by class name, once it is known to run outside a transaction
    (CONCURRENTLY cannot run inside one)."""
    migration = MigrationLoader(None).get_migration(*migration_key)
    assert migration.atomic is False
    return [type(operation).__name__ for operation in migration.operations]


def test_the_migration_builds_concurrently_outside_a_transaction():
    names = operations_of(AFTER)
    assert names[0] == "BtreeGinExtensionOnPostgreSQL"
    assert names.count("AddIndexConcurrentlyOnPostgreSQL") == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_replaces_the_platform_wide_indexes_and_reverses():
    assert sorted(trigram_indexes()) == sorted(PER_ORGANIZATION)
    for definition in trigram_indexes().values():
        assert "USING gin (organization_id, upper(" in definition, definition
    try:
        migrate_to(BEFORE)
        assert sorted(trigram_indexes()) == sorted(PLATFORM_WIDE)
        migrate_to(AFTER)
        assert sorted(trigram_indexes()) == sorted(PER_ORGANIZATION)
    finally:
        migrate_to_latest()


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_search_finds_the_shops_rows_inside_the_index_not_every_shops(
    admin_client, organization, other_organization
):
    """The word is in every name of another, bigger shop and in one of ours: each trigram index
    is searched with the organization as its first key (btree_gin), which needs the id sent as
    a bigint (core.tenancy.organization_key): an int4 literal cannot use that key before
    PostgreSQL 18, and the index would hand over every shop's matches to be filtered."""
    for shop, count, prefix, name in (
        (organization, 2000, "P", "P product"),
        (other_organization, 6000, "Q", "Zephyrite mug"),
    ):
        Product.objects.bulk_create(
            Product(organization=shop, sku=f"{prefix}-{i:05d}", barcode=f"{prefix}{i:012d}",
                    name=f"{name} {i:05d}", price="1.00")
            for i in range(count)
        )  # fmt: skip
    ProductFactory(organization=organization, sku="RARE-1", name="Zephyrite lamp")
    with connection.cursor() as cursor:
        for index in PER_ORGANIZATION:
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        cursor.execute("ANALYZE inventory_product")

    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(URL, {"search": "zephyr"})

    assert skus(response) == ["RARE-1"]
    queries = [q["sql"] for q in captured.captured_queries if '"inventory_product"' in q["sql"]]
    assert len(queries) == 2  # the matches' ids (few: counted from them), then their page
    assert "LIKE" in queries[0] and '"inventory_product"."id" IN (' in queries[1]
    for sql in queries[:1]:
        # Our 2,000 rows read whole would be as cheap at this size: ask for the bitmap scans.
        with connection.cursor() as cursor:
            for scan in ("seqscan", "indexscan", "indexonlyscan", "sort"):
                cursor.execute(f"SET LOCAL enable_{scan} = off")
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET ALL")
        conditions = [  # the products' index scans (not the category's, joined)
            condition
            for condition in re.findall(r"Index Cond: (.*)", plan)
            if "~~" in condition or "organization_id" in condition
        ]
        assert conditions, plan
        for condition in conditions:  # no index scan reads another shop's matches
            assert re.match(r"\(+organization_id = '\d+'::bigint\)", condition), plan


RELEVANCE = ("inventory", "0018_search_relevance_indexes")
RELEVANCE_INDEXES = {
    "inv_prod_org_name_prefix": "(organization_id, upper((name)::text) text_pattern_ops)",
    "inv_prod_org_name_trigrams": (
        "(organization_id, array_length(show_trgm(upper((name)::text)), 1), name, id)"
    ),
}


def test_the_relevance_indexes_are_built_concurrently_outside_a_transaction():
    assert operations_of(RELEVANCE) == ["AddIndexConcurrentlyOnPostgreSQL"] * 2


def relevance_indexes() -> dict[str, str]:
    return product_indexes(
        "indexname IN ('inv_prod_org_name_prefix', 'inv_prod_org_name_trigrams')"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_relevance_indexes_are_per_organization_and_reverse():
    indexes = relevance_indexes()
    assert sorted(indexes) == sorted(RELEVANCE_INDEXES)
    for name, columns in RELEVANCE_INDEXES.items():
        assert indexes[name].endswith(f"USING btree {columns}"), indexes[name]
    try:
        migrate_to(AFTER)
        assert relevance_indexes() == {}
        migrate_to(RELEVANCE)
        assert sorted(relevance_indexes()) == sorted(RELEVANCE_INDEXES)
    finally:
        migrate_to_latest()


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_common_words_first_page_reads_the_closest_names_not_every_match(
    admin_client, organization, other_organization, monkeypatch
):
    """The word is in 3,000 names of each shop, of every length: the first page reads only the
    names short enough to be the closest (their trigram counts), in this shop only."""
    for shop in (organization, other_organization):
        Product.objects.bulk_create(
            Product(organization=shop, sku=f"P-{i:05d}", name=f"{'x' * (i % 40)} steel {i}",
                    price="1")
            for i in range(3000)
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_product")
    ranked_whole = skus(admin_client.get(URL, {"search": "steel", "page_size": 20}))
    rank_by_tiers(monkeypatch)

    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(URL, {"search": "steel", "page_size": 20})

    assert skus(response) == ranked_whole
    rings = [q["sql"] for q in captured.captured_queries if "show_trgm(UPPER" in q["sql"]]
    assert rings, "the closest names are read ring by ring"
    read = 0
    for sql in rings:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0][0]["Plan"]
        read += _rows_read(plan)
    assert read < 3000  # not every match of the word (nor the other shop's)
    assert len(captured) <= 20


def _rows_read(plan) -> int:
    """Rows the plan's scans of the products returned (before its sorts and limits)."""
    own = plan["Actual Rows"] if plan.get("Relation Name") == "inventory_product" else 0
    return own + sum(_rows_read(child) for child in plan.get("Plans", []))
