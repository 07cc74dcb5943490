import pytest

from core.errors import NotFound
from purchases.models import PurchaseOrder
from stock.services import default_location
from suppliers import services
from suppliers.models import Supplier
from tests.factories import ProductFactory, SupplierFactory

URL = "/api/suppliers/"
MAX_QUERIES = 12  # auth, permissions and throttle (a cache table on SQLite), then count + page


@pytest.fixture
def supplier(organization):
    return SupplierFactory(organization=organization, name="Acme", contact_email="orders@acme.test")


def test_manager_creates_supplier(manager_client, organization):
    payload = {
        "name": "Fresh Farms",
        "contact_email": "hello@farms.test",
        "phone_number": "+44 20 7946 0000",
        "address": "1 Farm Lane",
    }
    response = manager_client.post(URL, payload)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in payload} == payload
    assert set(body) == {*payload, "id", "created_at", "updated_at"}
    assert Supplier.objects.get(pk=body["id"]).organization == organization


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Ok", "contact_email": "not-an-email"}, "contact_email"),
        ({"name": "Ok", "phone_number": "1" * 51}, "phone_number"),
        ({"name": "Ok", "address": None}, "address"),
    ],
)
def test_invalid_supplier_is_400(admin_client, payload, field):
    response = admin_client.post(URL, payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not Supplier.objects.exists()


def test_name_unique_within_organization(admin_client, other_admin_client, supplier):
    response = admin_client.post(URL, {"name": "Acme"})
    assert response.status_code == 400
    assert "name" in response.json()
    assert other_admin_client.post(URL, {"name": "Acme"}).status_code == 201


def test_rename_to_taken_name_is_400(admin_client, supplier, organization):
    other = SupplierFactory(organization=organization, name="Other")
    response = admin_client.patch(f"{URL}{other.pk}/", {"name": "Acme"})
    assert response.status_code == 400
    other.refresh_from_db()
    assert other.name == "Other"


def test_put_and_patch(admin_client, supplier):
    response = admin_client.put(
        f"{URL}{supplier.pk}/", {"name": "Acme Ltd", "contact_email": "", "address": "Dock 4"}
    )
    assert response.status_code == 200
    assert response.json()["contact_email"] == ""
    response = admin_client.patch(f"{URL}{supplier.pk}/", {"phone_number": "555"})
    assert response.json()["phone_number"] == "555"
    assert response.json()["name"] == "Acme Ltd"


def test_an_edit_keeps_what_was_saved_since_the_supplier_was_read(supplier):
    """The service re-reads the row under its lock: a stale copy never writes old values back,
    and the caller's copy shows the row as saved."""
    stale = Supplier.objects.get(pk=supplier.pk)
    services.update_supplier(supplier=Supplier.objects.get(pk=supplier.pk), name="Acme Ltd")

    services.update_supplier(supplier=stale, phone_number="555 0100")

    supplier.refresh_from_db()
    assert (supplier.name, supplier.phone_number) == ("Acme Ltd", "555 0100")
    assert (stale.name, stale.phone_number) == ("Acme Ltd", "555 0100")


def test_editing_a_supplier_deleted_meanwhile_is_404(admin_client, supplier):
    stale = Supplier.objects.get(pk=supplier.pk)
    assert admin_client.delete(f"{URL}{supplier.pk}/").status_code == 204
    with pytest.raises(NotFound):
        services.update_supplier(supplier=stale, name="Gone")
    assert not Supplier.objects.exists()


def test_search_on_name_and_email(admin_client, organization, supplier):
    SupplierFactory(organization=organization, name="Bolt Co", contact_email="x@bolts.test")
    SupplierFactory(organization=organization, name="Nuts", contact_email="sales@acme-nuts.test")
    names = [s["name"] for s in admin_client.get(URL, {"search": "ACME"}).json()["results"]]
    assert names == ["Acme", "Nuts"]
    names = [s["name"] for s in admin_client.get(URL, {"search": "bolts"}).json()["results"]]
    assert names == ["Bolt Co"]


def test_ordering(admin_client, organization, supplier):
    SupplierFactory(organization=organization, name="Zed")
    names = [s["name"] for s in admin_client.get(URL, {"ordering": "-name"}).json()["results"]]
    assert names == ["Zed", "Acme"]
    names = [s["name"] for s in admin_client.get(URL, {"ordering": "created_at"}).json()["results"]]
    assert names == ["Acme", "Zed"]


def test_delete_nulls_products(admin_client, supplier, organization):
    product = ProductFactory(organization=organization, supplier=supplier)
    response = admin_client.delete(f"{URL}{supplier.pk}/")
    assert response.status_code == 204
    product.refresh_from_db()
    assert product.supplier is None


def test_delete_refused_while_purchase_orders_refer_to_it(admin_client, supplier, organization):
    product = ProductFactory(organization=organization, supplier=supplier)
    PurchaseOrder.objects.create(
        organization=organization,
        number=1,
        supplier=supplier,
        location=default_location(organization_id=organization.pk),
    )
    response = admin_client.delete(f"{URL}{supplier.pk}/")
    assert response.status_code == 409
    assert "detail" in response.json()
    assert Supplier.objects.filter(pk=supplier.pk).exists()
    product.refresh_from_db()
    assert product.supplier == supplier  # nothing changed


def test_sales_reads_only(sales_client, supplier):
    assert sales_client.get(URL).json()["count"] == 1
    assert sales_client.get(f"{URL}{supplier.pk}/").status_code == 200
    assert sales_client.post(URL, {"name": "New"}).status_code == 403
    assert sales_client.put(f"{URL}{supplier.pk}/", {"name": "New"}).status_code == 403
    assert sales_client.delete(f"{URL}{supplier.pk}/").status_code == 403
    assert sales_client.delete(f"{URL}123456/").status_code == 403


def test_manager_deletes(manager_client, supplier):
    assert manager_client.delete(f"{URL}{supplier.pk}/").status_code == 204


def test_anonymous_is_401(api_client, supplier):
    assert api_client.get(URL).status_code == 401
    assert api_client.get(f"{URL}{supplier.pk}/").status_code == 401


def test_other_organization_gets_404(other_admin_client, supplier):
    assert other_admin_client.get(f"{URL}{supplier.pk}/").status_code == 404
    assert other_admin_client.put(f"{URL}{supplier.pk}/", {"name": "X"}).status_code == 404
    assert other_admin_client.patch(f"{URL}{supplier.pk}/", {"name": "X"}).status_code == 404
    assert other_admin_client.delete(f"{URL}{supplier.pk}/").status_code == 404
    assert other_admin_client.get(URL).json()["count"] == 0
    supplier.refresh_from_db()
    assert supplier.name == "Acme"


def test_list_query_count(admin_client, organization, django_assert_max_num_queries):
    SupplierFactory.create_batch(40, organization=organization)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(URL, {"page_size": 40})
    assert len(response.json()["results"]) == 40


def test_detail_query_count(admin_client, supplier, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES - 1):
        assert admin_client.get(f"{URL}{supplier.pk}/").status_code == 200
