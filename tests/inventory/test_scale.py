"""What keeps the catalogue fast on a million products (bench/catalogue_scale.py measures it):
trigram search indexes, list indexes, the count strategy and deep pages of the pagination."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.api import LargeListPaginator
from inventory.models import Product
from tests.factories import CategoryFactory, SupplierFactory

URL = "/api/products/"
# Each is (organization_id, UPPER(field) gin_trgm_ops) (tests/inventory/test_search.py).
TRIGRAM_INDEXES = [f"inv_prod_org_{f}_trgm" for f in ("name", "sku", "description")]


def bulk_products(organization, count, *, prefix="P", **fields):
    return Product.objects.bulk_create(
        Product(
            organization=organization,
            sku=f"{prefix}-{i:05d}",
            name=f"{prefix} product {i:05d}",
            price=Decimal("1.00"),
            **fields,
        )
        for i in range(count)
    )


SCANS = ("seqscan", "indexscan", "indexonlyscan", "bitmapscan", "sort")


def explain(sql: str, *, enable: tuple[str, ...] | None = None) -> str:
    """The query's plan; with `enable`, the planner may use only those of SCANS, as on a table
    too big to read whole (on a few rows it rightly prefers a sequential scan and a sort)."""
    with connection.cursor() as cursor:
        for scan in SCANS if enable is not None else ():
            cursor.execute(f"SET LOCAL enable_{scan} = {'on' if scan in enable else 'off'}")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        for scan in SCANS if enable is not None else ():
            cursor.execute(f"RESET enable_{scan}")
        return plan


def product_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if '"inventory_product"' in q["sql"]]


@pytest.mark.postgres
def test_search_is_served_by_the_trigram_indexes_within_the_organization(
    admin_client, organization, other_organization
):
    bulk_products(organization, 3000)  # enough rows for the planner to prefer an index
    bulk_products(other_organization, 500)
    Product.objects.create(
        organization=organization, sku="RARE-1", name="Zephyrite lamp", price=Decimal("3.00")
    )
    Product.objects.create(
        organization=other_organization, sku="RARE-2", name="Zephyrite mug", price=Decimal("3")
    )
    with connection.cursor() as cursor:  # what autovacuum does after such a bulk insert
        for index in TRIGRAM_INDEXES:  # new entries wait in the GIN "pending list" until then
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        cursor.execute("ANALYZE inventory_product")

    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(URL, {"search": "zephyr"})

    assert [p["sku"] for p in response.json()["results"]] == ["RARE-1"]
    matches, page = product_queries(captured)  # the matches' ids (counted), then their page
    # The indexes' expressions are exactly what Django's icontains compiles to.
    plan = explain(matches)
    for index in TRIGRAM_INDEXES:
        assert index in plan, plan
    assert "organization_id = " in plan, plan
    assert "inventory_product_pkey" in explain(page)  # by the ids found, not a second search


# --- counts: exact below the threshold, cached from it on ----------------------------------


@pytest.fixture
def small_threshold(monkeypatch):
    """Lists of 5 rows or more count as "large" (the real threshold is 10,000 rows)."""
    monkeypatch.setattr(LargeListPaginator, "count_cache_threshold", 5)


def count_of(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.json()
    count = response.json()["count"]
    assert type(count) is int
    return count


def test_counts_below_the_threshold_are_always_exact(admin_client, organization, small_threshold):
    bulk_products(organization, 3)
    assert count_of(admin_client) == 3
    Product.objects.create(organization=organization, sku="NEW", name="New", price=1)
    assert count_of(admin_client) == 4
    Product.objects.filter(sku="NEW").update(is_archived=True)
    assert count_of(admin_client) == 3


def test_large_counts_are_cached_per_query_for_a_short_time(
    admin_client, other_admin_client, organization, other_organization, small_threshold
):
    bulk_products(organization, 6)
    bulk_products(other_organization, 9)
    assert count_of(admin_client) == 6
    bulk_products(organization, 2, prefix="Q")

    # The same query (in any order) answers the cached count until it expires...
    assert count_of(admin_client) == 6
    assert count_of(admin_client, ordering="-price") == 6
    response = admin_client.get(URL, {"page_size": 100})
    assert len(response.json()["results"]) == 8  # the rows themselves are always current
    # ...another query of the same organization is counted afresh...
    assert count_of(admin_client, search="product") == 8
    assert count_of(admin_client, search="Q product") == 2  # small: exact
    # ...and another organization never shares a count with it.
    assert count_of(other_admin_client) == 9

    cache.clear()  # what the expiry after LargeListPaginator.count_cache_seconds does
    assert count_of(admin_client) == 8


def test_a_cached_count_below_what_is_certainly_there_is_not_used(
    admin_client, organization, small_threshold, monkeypatch
):
    bulk_products(organization, 5)
    assert count_of(admin_client) == 5
    monkeypatch.setattr(LargeListPaginator, "count_cache_threshold", 7)
    bulk_products(organization, 3, prefix="Q")  # 8 rows: more than the 7 counted for sure
    assert count_of(admin_client) == 8


def test_a_large_count_is_computed_once_then_read_from_the_cache(
    admin_client, organization, small_threshold
):
    bulk_products(organization, 6)

    def product_queries_of_a_page():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(URL).status_code == 200
        return product_queries(captured)

    bounded, full, page = product_queries_of_a_page()
    assert "LIMIT 5" in bounded
    assert "stock_value" not in bounded  # counts ids, computes none of the list's figures
    assert "LIMIT" not in full
    assert len(product_queries_of_a_page()) == 2  # bounded count, page: no full count


def test_a_list_twice_the_threshold_is_not_counted_again(
    admin_client, organization, small_threshold
):
    bulk_products(organization, 12)  # at least 2 x 5
    assert count_of(admin_client) == 12  # bounded count, full count: cached

    with CaptureQueriesContext(connection) as captured:
        assert count_of(admin_client) == 12
    bulk_products(organization, 1, prefix="Q")

    assert len(product_queries(captured)) == 1  # the page's rows only
    assert count_of(admin_client) == 12  # cached for 60 s: the new one is in the pages


# --- deep pages: ids first, then the rows -------------------------------------------------


def all_pages(client, url, params, *, page_size=3):
    """Every page's ids, page after page, and the counts the pages gave."""
    ids, counts, page = [], set(), 1
    while True:
        response = client.get(url, {**params, "page": page, "page_size": page_size})
        assert response.status_code == 200, response.json()
        body = response.json()
        ids.append([row["id"] for row in body["results"]])
        counts.add(body["count"])
        if body["next"] is None:
            return ids, counts
        page += 1


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (URL, {}),
        (URL, {"ordering": "-price"}),
        (URL, {"ordering": "quantity"}),
        (URL, {"low_stock": "true", "ordering": "-updated_at"}),
        (URL, {"search": "product"}),
        ("/api/stock/movements/", {}),
        ("/api/dashboard/low-stock/", {}),
        ("/api/categories/", {}),
    ],
)
def test_deep_pages_hold_the_same_rows_in_the_same_order(
    admin_client, organization, other_organization, stocked, monkeypatch, url, params
):
    for i in range(11):
        stocked(
            quantity=i % 4,
            organization=organization,
            name=f"Product {i % 3}",  # ties on name: the id decides
            price=Decimal(10 - i % 5),
            low_stock_threshold=2,
            category=CategoryFactory(organization=organization) if i % 3 else None,
        )
    stocked(quantity=1, organization=other_organization, low_stock_threshold=5)
    archived = stocked(quantity=1, organization=organization, low_stock_threshold=5)
    Product.objects.filter(pk=archived.pk).update(is_archived=True)

    monkeypatch.setattr(LargeListPaginator, "deferred_offset", 10**9)
    plain = all_pages(admin_client, url, params)
    monkeypatch.setattr(LargeListPaginator, "deferred_offset", 1)
    deferred = all_pages(admin_client, url, params)

    assert deferred == plain
    pages, _ = plain
    assert len(pages) > 2


def test_a_deep_page_reads_ids_then_rows(admin_client, organization, monkeypatch):
    monkeypatch.setattr(LargeListPaginator, "deferred_offset", 4)
    bulk_products(organization, 10)
    expected = list(
        Product.objects.filter(organization=organization)
        .order_by("name", "id")
        .values_list("sku", flat=True)
    )

    with CaptureQueriesContext(connection) as captured:
        page = admin_client.get(URL, {"page": 2, "page_size": 4}).json()

    assert [p["sku"] for p in page["results"]] == expected[4:8]
    queries = product_queries(captured)
    assert len(queries) == 3  # count, the page's ids, its rows
    assert queries[1].startswith('SELECT "inventory_product"."id" AS "pk" FROM')
    assert "OFFSET 4" in queries[1]
    assert "OFFSET" not in queries[2]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "ordering", ["name", "sku", "price", "quantity", "created_at", "updated_at"]
)
@pytest.mark.parametrize("direction", ["", "-"])
def test_a_deep_page_of_every_ordering_is_read_from_an_organization_first_index(
    admin_client, organization, monkeypatch, ordering, direction
):
    """Without a sort: an index starting with organization_id gives the ids in order (and,
    kept small by holding live products only, an index-only scan on a big table)."""
    monkeypatch.setattr(LargeListPaginator, "deferred_offset", 1)
    bulk_products(organization, 30)
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(URL, {"page": 3, "ordering": f"{direction}{ordering}", "page_size": 5})
    ids_query = product_queries(captured)[1]

    plan = explain(ids_query, enable=("indexonlyscan",))

    assert (
        f"Index Only Scan{' Backward' if direction else ''} using inv_product_live_{ordering}"
        in plan
    ), plan
    # Descending orders end with `id` ascending (core.api.OrderingFilter): ties on the field
    # are put in order by an incremental sort of each (tiny) group, never a sort of the list.
    assert not re.search(r"(?<!Incremental )Sort  ", plan), plan


@pytest.mark.postgres
@pytest.mark.parametrize("field", ["category", "supplier"])
def test_category_and_supplier_lists_are_read_in_name_order_from_their_index(
    admin_client, organization, field
):
    related = (CategoryFactory if field == "category" else SupplierFactory)(
        organization=organization
    )
    bulk_products(organization, 30, **{field: related})
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(URL, {field: related.pk})
    page_query = product_queries(captured)[1]

    plan = explain(page_query, enable=("indexscan",))

    assert f"Index Scan using inv_product_live_{field}_name" in plan, plan
    assert "Sort" not in plan, plan
