"""The catalogue a shop meets on day one: archived products that can be found and restored,
SKUs and barcodes a scanner can look up, names beside ids (API.md, Products, Stock ledger)."""

import pytest

from inventory.models import Product
from stock.models import StockMovement
from tests.factories import CategoryFactory, ProductFactory

URL = "/api/products/"
pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def write_off(client, product, quantity):
    body = {"product": product.pk, "movement_type": "OUT", "quantity": quantity}
    assert client.post("/api/stock/movements/", body).status_code == 201


# --- Archiving and restoring -----------------------------------------------------------------


@pytest.fixture
def archived(admin_client, stocked, organization):
    product = stocked(quantity=3, organization=organization, sku="OLD-1", barcode="4006381333931")
    write_off(admin_client, product, 3)
    assert admin_client.delete(f"{URL}{product.pk}/").status_code == 204
    product.refresh_from_db()
    assert product.is_archived and product.archived_at is not None
    return product


def test_archived_products_are_listed_with_archived_true_for_admins_and_managers(
    admin_client, manager_client, sales_client, archived, stocked, organization
):
    live = stocked(quantity=1, organization=organization, sku="LIVE")

    assert ids(admin_client.get(URL)) == [live.pk]
    assert ids(admin_client.get(URL, {"archived": "true"})) == [archived.pk]
    assert ids(manager_client.get(URL, {"archived": "true", "search": "old"})) == [archived.pk]
    assert ids(admin_client.get(URL, {"archived": "false"})) == [live.pk]
    assert sales_client.get(URL, {"archived": "true"}).status_code == 403
    assert admin_client.get(URL, {"archived": "maybe"}).status_code == 400


def test_restore_brings_an_archived_product_back(admin_client, archived):
    response = admin_client.post(f"{URL}{archived.pk}/restore/")

    assert response.status_code == 200
    assert response.json()["sku"] == "OLD-1" and response.json()["quantity"] == 0
    assert archived.pk in ids(admin_client.get(URL))
    assert StockMovement.objects.filter(product=archived).count() == 2  # its history stayed
    assert admin_client.post(f"{URL}{archived.pk}/restore/").status_code == 404  # live now


def test_only_admins_restore_and_another_organizations_product_is_404(
    manager_client, other_admin_client, archived
):
    assert manager_client.post(f"{URL}{archived.pk}/restore/").status_code == 403
    assert other_admin_client.post(f"{URL}{archived.pk}/restore/").status_code == 404


def test_restoring_an_id_that_is_no_number_is_404_not_500(admin_client, archived):
    """Found by a schemathesis run: the restore looked the id up with Django's
    get_object_or_404, which fails (500) on an id that is no integer."""
    for pk in ("null,null", "abc", "1.5", "99999999999999999999"):
        response = admin_client.post(f"{URL}{pk}/restore/")
        assert response.status_code == 404, (pk, response.status_code)
        assert "detail" in response.json()


def test_a_restored_parent_brings_back_the_variations_archived_with_it(admin_client, organization):
    parent = admin_client.post(URL, {"sku": "TEE", "name": "Tee", "price": "9.00"}).json()
    small = admin_client.post(
        f"{URL}{parent['id']}/variations/", {"attributes": {"size": "S"}, "quantity": 1}
    ).json()
    write_off(admin_client, Product.objects.get(pk=small["id"]), 1)
    large = admin_client.post(
        f"{URL}{parent['id']}/variations/", {"attributes": {"size": "L"}, "quantity": 1}
    ).json()
    write_off(admin_client, Product.objects.get(pk=large["id"]), 1)
    assert admin_client.delete(f"/api/variations/{small['id']}/").status_code == 204  # earlier
    assert admin_client.delete(f"{URL}{parent['id']}/").status_code == 204

    assert admin_client.post(f"{URL}{parent['id']}/restore/").status_code == 200

    assert sorted(ids(admin_client.get("/api/variations/"))) == [large["id"]]
    assert Product.objects.get(pk=parent["id"]).has_variations


def test_an_archived_products_sku_and_barcode_stay_taken_with_a_pointer_to_restore(
    admin_client, archived
):
    for body in ({"sku": "old-1"}, {"sku": "NEW-1", "barcode": "4006381333931"}):
        response = admin_client.post(URL, {"name": "New", "price": "1.00", **body})
        assert response.status_code == 400
        field = "sku" if body["sku"] == "old-1" else "barcode"
        assert f"/api/products/{archived.pk}/restore/" in response.json()[field][0]


def test_a_category_whose_products_are_all_archived_can_be_deleted(admin_client, archived):
    category = CategoryFactory(organization=archived.organization)
    Product.objects.filter(pk=archived.pk).update(category=category)

    assert admin_client.delete(f"/api/categories/{category.pk}/").status_code == 204
    archived.refresh_from_db()
    assert archived.category is None


# --- SKUs and barcodes --------------------------------------------------------------------------


def test_skus_are_unique_whatever_their_case(admin_client, stocked, organization):
    stocked(organization=organization, sku="MILK-1L")

    response = admin_client.post(URL, {"sku": "milk-1l", "name": "Milk", "price": "1.00"})

    assert response.status_code == 400
    assert "sku" in response.json()
    assert Product.objects.filter(organization=organization).count() == 1


def test_a_barcode_is_unique_within_the_organization_only(
    admin_client, other_admin_client, stocked, organization
):
    stocked(organization=organization, sku="A", barcode="5012345678900")

    taken = admin_client.post(URL, {"name": "B", "price": "1.00", "barcode": "5012345678900"})
    elsewhere = other_admin_client.post(
        URL, {"name": "B", "price": "1.00", "barcode": "5012345678900"}
    )
    blank = admin_client.post(URL, {"name": "C", "price": "1.00", "barcode": ""})

    assert taken.status_code == 400 and "barcode" in taken.json()
    assert elsewhere.status_code == 201
    assert blank.status_code == 201 and blank.json()["barcode"] is None


def test_a_scanner_looks_up_sku_and_barcode_exactly_whatever_the_case(
    admin_client, stocked, organization
):
    milk = stocked(organization=organization, sku="MILK-1L", barcode="ABC123")
    stocked(organization=organization, sku="MILK-1L-LACTOSE-FREE", barcode="ABC1234")

    assert ids(admin_client.get(URL, {"sku": "milk-1l"})) == [milk.pk]
    assert ids(admin_client.get(URL, {"barcode": "abc123"})) == [milk.pk]
    assert ids(admin_client.get(URL, {"barcode": " ABC123 "})) == [milk.pk]
    assert ids(admin_client.get(URL, {"sku": "MILK"})) == []  # exact, not a search
    assert len(ids(admin_client.get(URL, {"search": "abc12"}))) == 2  # search finds barcodes


def test_a_barcode_is_edited_like_any_field(admin_client, stocked, organization):
    product = stocked(organization=organization, sku="EGG")

    response = admin_client.patch(f"{URL}{product.pk}/", {"barcode": " 0001 "})

    assert response.json()["barcode"] == "0001"


# --- Names beside ids -------------------------------------------------------------------------


def test_order_lines_and_ledger_rows_carry_the_products_sku_and_name(
    admin_client, stocked, organization
):
    from tests.factories import SupplierFactory

    tea = stocked(quantity=5, organization=organization, sku="TEA-9", name="Green tea")
    sale = admin_client.post(
        "/api/sales-orders/", {"items": [{"product": tea.pk, "quantity": 1}]}
    ).json()
    purchase = admin_client.post(
        "/api/purchase-orders/",
        {
            "supplier": SupplierFactory(organization=organization).pk,
            "items": [{"product": tea.pk, "quantity": 1, "unit_cost": "1.00"}],
        },
    ).json()
    movement = admin_client.get("/api/stock/movements/").json()["results"][0]

    for line in (sale["items"][0], purchase["items"][0], movement):
        assert (line["sku"], line["product_name"]) == ("TEA-9", "Green tea")


def test_a_single_outs_shortage_names_the_product_and_figures_not_a_line(
    admin_client, stocked, organization
):
    product = stocked(quantity=7, organization=organization, sku="SKU-5")

    response = admin_client.post(
        "/api/stock/movements/", {"product": product.pk, "movement_type": "OUT", "quantity": 70}
    )

    assert response.status_code == 400
    assert response.json() == {"quantity": ["SKU-5: 70 requested, 7 available."]}


def test_product_list_query_count_with_the_new_fields(
    admin_client, stocked, organization, django_assert_max_num_queries
):
    for n in range(30):
        stocked(quantity=n, organization=organization, barcode=f"B{n}")
    ProductFactory(organization=organization)
    with django_assert_max_num_queries(12):
        assert len(ids(admin_client.get(URL, {"page_size": 100}))) == 31
