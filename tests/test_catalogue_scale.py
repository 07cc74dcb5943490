"""What keeps the catalogue fast on a million products (bench/catalogue_scale.py measures it):
trigram search indexes, list indexes, the count strategy and deep pages of the pagination."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Product

URL = "/api/products/"
TRIGRAM_INDEXES = [
    "inventory_product_name_trgm",
    "inventory_product_sku_trgm",
    "inventory_product_description_trgm",
]


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


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


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
    for sql in product_queries(captured):  # the count, then the page
        # The indexes' expressions are exactly what Django's icontains compiles to.
        plan = explain(sql)
        for index in TRIGRAM_INDEXES:
            assert index in plan, plan
        assert "organization_id = " in plan, plan
