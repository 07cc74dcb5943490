"""Supplier products (API.md): what a supplier sells us of a product, one preferred per product,
and the unit cost a purchase order line takes from it."""

from decimal import Decimal

import pytest

from suppliers import services
from suppliers.models import SupplierProduct
from tests.factories import ProductFactory, SupplierFactory

pytestmark = pytest.mark.django_db

URL = "/api/supplier-products/"


@pytest.fixture
def milk(organization):
    return ProductFactory(organization=organization, sku="MILK", name="Milk", cost_price="0.90")


@pytest.fixture
def dairy(organization):
    return SupplierFactory(organization=organization, name="Dairy Co")


@pytest.fixture
def farm(organization):
    return SupplierFactory(organization=organization, name="Farm Ltd")


def offer(client, product, supplier, **fields):
    body = {"product": product.pk, "supplier": supplier.pk, "unit_cost": "0.80", **fields}
    return client.post(URL, body, format="json")


def test_a_supplier_product_is_created_with_its_defaults(manager_client, milk, dairy):
    response = offer(manager_client, milk, dairy, supplier_sku="D-77")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")} == {
        "product": milk.pk,
        "sku": "MILK",
        "product_name": "Milk",
        "supplier": dairy.pk,
        "supplier_name": "Dairy Co",
        "supplier_sku": "D-77",
        "pack_size": 1,
        "unit_cost": "0.80",
        "lead_time_days": 0,
        "minimum_order_quantity": 0,
        "is_preferred": False,
    }


@pytest.mark.parametrize(
    "field, value",
    [("pack_size", 0), ("unit_cost", "-1.00"), ("lead_time_days", -1),
     ("minimum_order_quantity", -5), ("unit_cost", "abc"), ("unit_cost", None)],
)  # fmt: skip
def test_bad_figures_are_a_400_and_nothing_is_stored(manager_client, milk, dairy, field, value):
    response = offer(manager_client, milk, dairy, **{field: value})

    assert response.status_code == 400
    assert field in response.json()
    assert not SupplierProduct.objects.exists()


def test_one_per_product_and_supplier(manager_client, milk, dairy):
    assert offer(manager_client, milk, dairy).status_code == 201

    response = offer(manager_client, milk, dairy, unit_cost="0.70")

    assert response.status_code == 400
    assert "supplier" in response.json()
    assert SupplierProduct.objects.count() == 1


def test_preferring_one_clears_the_products_others(manager_client, milk, dairy, farm):
    first = offer(manager_client, milk, dairy, is_preferred=True).json()
    second = offer(manager_client, milk, farm, is_preferred=True).json()

    assert second["is_preferred"] is True
    assert manager_client.get(f"{URL}{first['id']}/").json()["is_preferred"] is False

    response = manager_client.patch(f"{URL}{first['id']}/", {"is_preferred": True}, format="json")

    assert response.status_code == 200
    assert set(SupplierProduct.objects.filter(is_preferred=True).values_list("pk", flat=True)) == {
        first["id"]
    }


def test_the_database_holds_one_preferred_per_product(organization, milk, dairy, farm):
    from django.db import IntegrityError, transaction

    SupplierProduct.objects.create(
        organization=organization, product=milk, supplier=dairy, unit_cost=1, is_preferred=True
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SupplierProduct.objects.create(
            organization=organization, product=milk, supplier=farm, unit_cost=1, is_preferred=True
        )


def test_sales_reads_without_costs_and_writes_nothing(sales_client, manager_client, milk, dairy):
    offer(manager_client, milk, dairy)

    listed = sales_client.get(URL)

    assert listed.status_code == 200
    assert [row["unit_cost"] for row in listed.json()["results"]] == [None]
    assert offer(sales_client, milk, dairy).status_code == 403


def test_filters_by_product_and_supplier(manager_client, organization, milk, dairy, farm):
    bread = ProductFactory(organization=organization, sku="BREAD")
    offer(manager_client, milk, dairy)
    offer(manager_client, milk, farm)
    offer(manager_client, bread, farm)

    by_product = manager_client.get(URL, {"product": milk.pk}).json()["results"]
    by_supplier = manager_client.get(URL, {"supplier": farm.pk}).json()["results"]

    assert {(r["sku"], r["supplier_name"]) for r in by_product} == {
        ("MILK", "Dairy Co"), ("MILK", "Farm Ltd")
    }  # fmt: skip
    assert {r["sku"] for r in by_supplier} == {"MILK", "BREAD"}
    assert manager_client.get(URL, {"product": "x"}).status_code == 400


def test_the_list_takes_a_constant_number_of_queries(
    manager_client, organization, dairy, django_assert_max_num_queries
):
    for _ in range(12):
        offer(manager_client, ProductFactory(organization=organization), dairy)

    with django_assert_max_num_queries(6):
        response = manager_client.get(URL, {"page_size": 50})

    assert len(response.json()["results"]) == 12


def test_another_organizations_supplier_products_are_out_of_reach(
    manager_client, other_admin_client, other_organization, milk, dairy
):
    mine = offer(manager_client, milk, dairy).json()
    theirs = ProductFactory(organization=other_organization)

    assert other_admin_client.get(URL).json()["results"] == []
    assert other_admin_client.get(f"{URL}{mine['id']}/").status_code == 404
    assert other_admin_client.patch(f"{URL}{mine['id']}/", {"unit_cost": "9.00"},
                                    format="json").status_code == 404  # fmt: skip
    assert other_admin_client.delete(f"{URL}{mine['id']}/").status_code == 404
    # Their product with my supplier, or my product with their caller: a 400, nothing stored.
    response = offer(manager_client, theirs, dairy)
    assert response.status_code == 400 and "product" in response.json()
    assert SupplierProduct.objects.get(pk=mine["id"]).unit_cost == Decimal("0.80")


def test_a_purchase_line_takes_its_suppliers_unit_cost_then_the_cost_price(
    manager_client, organization, milk, dairy, farm
):
    bread = ProductFactory(organization=organization, sku="BREAD", cost_price="1.10")
    offer(manager_client, milk, dairy, unit_cost="0.75")
    offer(manager_client, bread, farm, unit_cost="0.95")  # another supplier's: not used

    response = manager_client.post(
        "/api/purchase-orders/",
        {"supplier": dairy.pk,
         "items": [{"product": milk.pk, "quantity": 2}, {"product": bread.pk, "quantity": 1},
                   {"product": milk.pk, "quantity": 1, "unit_cost": "0.50"}]},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    assert [line["unit_cost"] for line in response.json()["items"]] == ["0.75", "1.10", "0.50"]


def test_the_service_refuses_another_organizations_product(organization, other_organization, dairy):
    from core.errors import BrokenRule

    with pytest.raises(BrokenRule):
        services.create_supplier_product(
            organization=organization,
            supplier=dairy,
            product=ProductFactory(organization=other_organization),
            unit_cost=Decimal("1.00"),
        )
