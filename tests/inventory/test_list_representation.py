"""The product lists read values, not models (core.serializers.ValuesRepresentation): their
answers must be exactly what the serializer makes of the same products, byte for byte."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from core.dates import local_today
from inventory.models import Product
from inventory.serializers import ProductSerializer, VariationSerializer
from purchases.selectors import on_order
from stock import services
from stock.selectors import with_stock_figures
from tests.factories import CategoryFactory, ProductFactory, SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def assorted(organization, stocked):
    """Products with every kind of value a row can hold."""
    tea = CategoryFactory(organization=organization, name="Thé & tisanes")
    acme = SupplierFactory(organization=organization, name="Acme")
    stocked(12, organization=organization, sku="A-TEA", name="Thé vert « sencha »", price="4.50",
            cost_price="2.10", category=tea, supplier=acme, barcode="4006381333931",
            description='=cmd|" \u2028 line', low_stock_threshold=20,
            expiration_date=local_today(None))  # fmt: skip
    stocked(0, organization=organization, sku="B-EMPTY", name="Empty", price="0.00")
    yoghurt = ProductFactory(organization=organization, sku="C-YOG", name="Yoghurt",
                             price="0.99", track_lots=True)  # fmt: skip
    for code, days, quantity in (("OLD", -2, 3), ("NEW", 9, 7)):
        services.record_movement(
            product=yoghurt, movement_type="IN", quantity=quantity, user=None, lot_code=code,
            expiration_date=local_today(None) + datetime.timedelta(days=days),
            unit_cost=Decimal("0.3333"),
        )  # fmt: skip
    shirt = ProductFactory(organization=organization, sku="D-SHIRT", name="Shirt", price="20",
                           has_variations=True, category=tea)  # fmt: skip
    stocked(2, organization=organization, sku="D-SHIRT-M", name="Shirt M", price="21.50",
            parent=shirt, attributes={"size": "M", "colour": "vert"}, category=tea)  # fmt: skip
    archived = stocked(1, organization=organization, sku="Z-OLD", name="Old", price="1")
    Product.objects.filter(pk=archived.pk).update(is_archived=True)


def serialized(serializer_class, queryset, *, hide_costs=False) -> bytes:
    rows = serializer_class(queryset, many=True, context={"hide_costs": hide_costs}).data
    return JSONRenderer().render(rows)


def listed(client, path) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, response.content
    body = response.json()
    results = body["results"] if isinstance(body, dict) and "results" in body else body
    return JSONRenderer().render(results)


def live(organization):
    products = Product.objects.filter(organization=organization, is_archived=False)
    return (
        with_stock_figures(products.select_related("category"), today=local_today(organization))
        .annotate(on_order=on_order())
        .order_by("name", "id")
    )


def test_the_product_list_is_the_serializers_answer(
    admin_client, sales_client, organization, assorted
):
    expected = serialized(ProductSerializer, live(organization))
    assert listed(admin_client, "/api/products/?page_size=500") == expected
    hidden = serialized(ProductSerializer, live(organization), hide_costs=True)
    assert listed(sales_client, "/api/products/?page_size=500") == hidden
    assert b'"average_cost":null' in hidden and b'"average_cost":"0.3333"' in expected


def queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_a_products_get_is_the_serializers_answer(
    admin_client, sales_client, organization, assorted
):
    render = JSONRenderer().render
    for product in live(organization):
        path = f"/api/products/{product.pk}/"
        answer = admin_client.get(path)
        assert queries(admin_client, path) == 1  # then (the user and the day cached) one
        assert render(answer.json()) == serialized(ProductSerializer, [product])[1:-1]
        hidden = serialized(ProductSerializer, [product], hide_costs=True)[1:-1]
        assert render(sales_client.get(path).json()) == hidden
    archived = Product.objects.get(sku="Z-OLD")
    assert admin_client.get(f"/api/products/{archived.pk}/").status_code == 404
    assert admin_client.get("/api/products/not-a-number/").status_code == 404


def test_the_variation_list_is_the_serializers_answer(admin_client, organization, assorted):
    variations = live(organization).filter(parent__isnull=False)
    assert listed(admin_client, "/api/variations/") == serialized(VariationSerializer, variations)


def test_the_alerts_lists_are_the_serializers_answer(admin_client, organization, assorted):
    body = admin_client.get("/api/products/alerts/?days=30").json()
    render = JSONRenderer().render
    low = live(organization).filter(sku__in=[p["sku"] for p in body["low_stock"]])
    assert {p["sku"] for p in body["low_stock"]} == {"A-TEA", "B-EMPTY"}
    by_sku = {p["sku"]: p for p in body["low_stock"] + body["expired"] + body["expiring_soon"]}
    for product in ProductSerializer(low, many=True, context={"hide_costs": False}).data:
        assert render(by_sku[product["sku"]]) == render(product)
    assert [p["sku"] for p in body["expired"]] == ["C-YOG", "A-TEA"]  # oldest date first
    assert [p["sku"] for p in body["expiring_soon"]] == ["C-YOG"]
