import pytest

from core.errors import NotFound
from inventory import services
from inventory.models import Category
from tests.factories import CategoryFactory, ProductFactory

URL = "/api/categories/"
# Authentication, permissions and the throttle's cache (a table on SQLite) take up to ~9
# queries; the list itself takes 2 (count, page) however many rows the page holds.
MAX_QUERIES = 12


@pytest.fixture
def category(organization):
    return CategoryFactory(organization=organization, name="Drinks", description="Cold ones")


def test_manager_creates_category(manager_client, organization):
    response = manager_client.post(URL, {"name": "  Snacks ", "description": "Salty"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Snacks"
    assert body["product_count"] == 0
    assert set(body) == {"id", "name", "description", "product_count", "created_at", "updated_at"}
    assert Category.objects.get(pk=body["id"]).organization == organization


@pytest.mark.parametrize("name", ["drinks", "DRINKS", "Drinks"])
def test_name_is_unique_case_insensitively(admin_client, category, name):
    response = admin_client.post(URL, {"name": name})
    assert response.status_code == 400
    assert "name" in response.json()
    assert Category.objects.count() == 1


def test_same_name_in_another_organization_is_fine(other_admin_client, category):
    response = other_admin_client.post(URL, {"name": "Drinks"})
    assert response.status_code == 201


def test_rename_to_taken_name_is_400(admin_client, category, organization):
    other = CategoryFactory(organization=organization, name="Snacks")
    response = admin_client.patch(f"{URL}{other.pk}/", {"name": "dRiNkS"})
    assert response.status_code == 400
    assert "name" in response.json()
    other.refresh_from_db()
    assert other.name == "Snacks"


def test_rename_keeping_own_name_in_other_case(admin_client, category):
    response = admin_client.put(f"{URL}{category.pk}/", {"name": "DRINKS", "description": ""})
    assert response.status_code == 200
    assert response.json()["name"] == "DRINKS"


@pytest.mark.parametrize(
    "payload",
    [{}, {"name": ""}, {"name": "   "}, {"name": None}, {"name": "x" * 101}, {"name": ["a"]}],
)
def test_invalid_names_are_400(admin_client, payload):
    response = admin_client.post(URL, payload)
    assert response.status_code == 400
    assert "name" in response.json()
    assert not Category.objects.exists()


def test_an_edit_keeps_what_was_saved_since_the_category_was_read(category):
    """The service re-reads the row under its lock: a stale copy never writes old values back."""
    stale = Category.objects.get(pk=category.pk)
    services.update_category(category=Category.objects.get(pk=category.pk), name="Beverages")

    services.update_category(category=stale, description="Hot ones too")

    category.refresh_from_db()
    assert (category.name, category.description) == ("Beverages", "Hot ones too")


def test_editing_a_category_deleted_meanwhile_is_404(admin_client, category):
    stale = Category.objects.get(pk=category.pk)
    assert admin_client.delete(f"{URL}{category.pk}/").status_code == 204
    with pytest.raises(NotFound):
        services.update_category(category=stale, name="Gone")
    assert not Category.objects.exists()


def test_product_count_counts_live_products(admin_client, category, organization):
    ProductFactory.create_batch(2, organization=organization, category=category)
    ProductFactory(organization=organization, category=category, is_archived=True)
    response = admin_client.get(f"{URL}{category.pk}/")
    assert response.json()["product_count"] == 2


def test_delete_category_with_products_is_409(admin_client, category, organization):
    ProductFactory(organization=organization, category=category)
    response = admin_client.delete(f"{URL}{category.pk}/")
    assert response.status_code == 409
    assert "detail" in response.json()
    assert Category.objects.filter(pk=category.pk).exists()


def test_delete_category_whose_products_are_all_archived(admin_client, category, organization):
    archived = ProductFactory(organization=organization, category=category, is_archived=True)
    response = admin_client.delete(f"{URL}{category.pk}/")
    assert response.status_code == 204
    archived.refresh_from_db()
    assert archived.category is None


def test_delete_empty_category(manager_client, category):
    assert manager_client.delete(f"{URL}{category.pk}/").status_code == 204
    assert not Category.objects.exists()


def test_sales_reads_but_cannot_write(sales_client, category):
    assert sales_client.get(URL).status_code == 200
    assert sales_client.get(f"{URL}{category.pk}/").status_code == 200
    assert sales_client.post(URL, {"name": "New"}).status_code == 403
    assert sales_client.patch(f"{URL}{category.pk}/", {"name": "New"}).status_code == 403
    assert sales_client.delete(f"{URL}{category.pk}/").status_code == 403
    # 403 whatever the id: the role is checked before the lookup
    assert sales_client.delete(f"{URL}999999/").status_code == 403


def test_anonymous_is_401(api_client, category):
    assert api_client.get(URL).status_code == 401


def test_other_organization_gets_404(other_admin_client, category):
    assert other_admin_client.get(f"{URL}{category.pk}/").status_code == 404
    assert other_admin_client.patch(f"{URL}{category.pk}/", {"name": "X"}).status_code == 404
    assert other_admin_client.delete(f"{URL}{category.pk}/").status_code == 404
    assert other_admin_client.get(URL).json()["count"] == 0
    category.refresh_from_db()
    assert category.name == "Drinks"


@pytest.mark.parametrize("bad_id", ["abc", "99999999999999999999999", "-1", "1.5"])
def test_malformed_ids_are_404(admin_client, bad_id):
    assert admin_client.get(f"{URL}{bad_id}/").status_code == 404


def test_search_and_ordering(admin_client, organization):
    CategoryFactory(organization=organization, name="Bread", description="baked")
    CategoryFactory(organization=organization, name="Apples", description="fruit")
    CategoryFactory(organization=organization, name="Cakes", description="baked sweets")
    names = [c["name"] for c in admin_client.get(URL, {"search": "BAKED"}).json()["results"]]
    assert names == ["Bread", "Cakes"]
    names = [c["name"] for c in admin_client.get(URL, {"ordering": "-name"}).json()["results"]]
    assert names == ["Cakes", "Bread", "Apples"]
    # an unknown ordering field is ignored
    assert admin_client.get(URL, {"ordering": "secret"}).status_code == 200


def test_list_query_count_is_constant(admin_client, organization, django_assert_max_num_queries):
    for i in range(40):
        category = CategoryFactory(organization=organization, name=f"Cat {i:02d}")
        ProductFactory(organization=organization, category=category)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(URL, {"page_size": 40})
    assert len(response.json()["results"]) == 40
    assert all(c["product_count"] == 1 for c in response.json()["results"])


def test_detail_query_count(admin_client, category, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES - 1):
        assert admin_client.get(f"{URL}{category.pk}/").status_code == 200
