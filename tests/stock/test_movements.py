"""The stock ledger through the API: /api/stock/movements/."""

import csv
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from inventory.models import Product
from stock.models import StockMovement
from tests.factories import ProductFactory

URL = "/api/stock/movements/"
# Auth, role permissions and the request throttle (a cache table on SQLite) come on top.
MAX_QUERIES = 12


@pytest.fixture
def widget(stocked, organization, admin_user):
    return stocked(quantity=10, user=admin_user, organization=organization, sku="WID-1")


def post(client, **body):
    return client.post(URL, body, format="json")


def ledger_sum(product):
    return sum(StockMovement.objects.filter(product=product).values_list("delta", flat=True))


@pytest.mark.django_db
class TestAppend:
    def test_in_adds_and_records_the_movement(self, manager_client, widget):
        response = post(manager_client, product=widget.pk, movement_type="IN", quantity=5, note="x")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["delta"] == 5
        assert body["balance_after"] == 15
        assert body["source"] == "manual"
        assert body["reference"] is None
        assert body["performed_by"] == "mike"
        assert body["note"] == "x"
        widget.refresh_from_db()
        assert widget.quantity == 15 == ledger_sum(widget)

    def test_out_takes_and_adjust_sets_the_counted_quantity(self, admin_client, widget):
        assert (
            post(admin_client, product=widget.pk, movement_type="OUT", quantity=4).json()["delta"]
            == -4
        )
        body = post(admin_client, product=widget.pk, movement_type="ADJUST", quantity=2).json()
        assert (body["delta"], body["balance_after"], body["quantity"]) == (-4, 2, 2)
        body = post(admin_client, product=widget.pk, movement_type="ADJUST", quantity=0).json()
        assert (body["delta"], body["balance_after"]) == (-2, 0)
        widget.refresh_from_db()
        assert widget.quantity == 0 == ledger_sum(widget)

    def test_out_beyond_stock_is_400_and_changes_nothing(self, admin_client, widget):
        before = StockMovement.objects.count()
        response = post(admin_client, product=widget.pk, movement_type="OUT", quantity=11)
        assert response.status_code == 400
        assert "10 available" in response.json()["quantity"][0]
        widget.refresh_from_db()
        assert widget.quantity == 10
        assert StockMovement.objects.count() == before

    @pytest.mark.parametrize(
        "body",
        [
            {"movement_type": "IN", "quantity": 0},
            {"movement_type": "OUT", "quantity": 0},
            {"movement_type": "IN", "quantity": -1},
            {"movement_type": "ADJUST", "quantity": -1},
            {"movement_type": "IN", "quantity": 2**31},
            {"movement_type": "IN", "quantity": 10**30},
            {"movement_type": "IN", "quantity": "many"},
            {"movement_type": "IN", "quantity": 1.5},
            {"movement_type": "IN", "quantity": None},
            {"movement_type": "IN"},
            {"movement_type": "MOVE", "quantity": 1},
            {"movement_type": None, "quantity": 1},
            {"quantity": 1},
        ],
    )
    def test_bad_input_is_400(self, admin_client, widget, body):
        response = post(admin_client, product=widget.pk, **body)
        assert response.status_code == 400
        widget.refresh_from_db()
        assert widget.quantity == 10

    @pytest.mark.parametrize("product", ["abc", None, -1, 10**30, [1], {"id": 1}])
    def test_bad_product_is_400(self, admin_client, widget, product):
        response = post(admin_client, product=product, movement_type="IN", quantity=1)
        assert response.status_code == 400
        assert "product" in response.json()

    def test_another_organizations_product_is_400(self, admin_client, other_organization):
        theirs = ProductFactory(organization=other_organization)
        response = post(admin_client, product=theirs.pk, movement_type="IN", quantity=1)
        assert response.status_code == 400
        assert "product" in response.json()
        assert not StockMovement.objects.filter(product=theirs).exists()

    def test_archived_product_is_400(self, admin_client, organization):
        archived = ProductFactory(organization=organization, is_archived=True)
        response = post(admin_client, product=archived.pk, movement_type="IN", quantity=1)
        assert response.status_code == 400

    def test_product_with_variations_is_400_naming_them(self, admin_client, organization):
        parent = ProductFactory(organization=organization, has_variations=True, sku="TEE")
        ProductFactory(organization=organization, parent=parent, sku="TEE-S")
        ProductFactory(organization=organization, parent=parent, sku="TEE-M")
        response = post(admin_client, product=parent.pk, movement_type="IN", quantity=1)
        assert response.status_code == 400
        message = response.json()["product"][0]
        assert "TEE-M" in message and "TEE-S" in message

    def test_stock_beyond_the_integer_range_is_400(self, admin_client, widget):
        response = post(admin_client, product=widget.pk, movement_type="IN", quantity=2**31 - 5)
        assert response.status_code == 400
        widget.refresh_from_db()
        assert widget.quantity == 10

    def test_malformed_json_is_400(self, admin_client):
        response = admin_client.post(URL, "{", content_type="application/json")
        assert response.status_code == 400


@pytest.mark.django_db
class TestAppendOnly:
    @pytest.mark.parametrize("method", ["put", "patch", "delete"])
    def test_changing_a_movement_is_405(self, admin_client, widget, method):
        movement = StockMovement.objects.get(product=widget)
        response = getattr(admin_client, method)(f"{URL}{movement.pk}/", {"quantity": 1})
        assert response.status_code == 405
        assert StockMovement.objects.get(pk=movement.pk).quantity == 10

    def test_model_refuses_change_and_delete(self, widget):
        movement = StockMovement.objects.get(product=widget)
        movement.note = "tampered"
        with pytest.raises(TypeError):
            movement.save()
        with pytest.raises(TypeError):
            movement.delete()
        with pytest.raises(TypeError):
            StockMovement.objects.filter(pk=movement.pk).update(delta=0)
        with pytest.raises(TypeError):
            StockMovement.objects.filter(pk=movement.pk).delete()
        assert StockMovement.objects.get(pk=movement.pk).note == ""

    def test_admin_is_read_only(self, client, widget):
        staff = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345!")
        client.force_login(staff)
        movement = StockMovement.objects.get(product=widget)
        assert client.get("/admin/stock/stockmovement/").status_code == 200
        assert client.get("/admin/stock/stockmovement/add/").status_code == 403
        assert client.get(f"/admin/stock/stockmovement/{movement.pk}/delete/").status_code == 403
        response = client.post(
            f"/admin/stock/stockmovement/{movement.pk}/change/", {"note": "tampered"}
        )
        assert response.status_code == 403
        assert StockMovement.objects.get(pk=movement.pk).note == ""


@pytest.mark.django_db
class TestRolesAndTenancy:
    def test_sales_reads_but_cannot_append(self, sales_client, widget):
        assert sales_client.get(URL).status_code == 200
        response = post(sales_client, product=widget.pk, movement_type="IN", quantity=1)
        assert response.status_code == 403

    def test_anonymous_is_401(self, api_client, db):
        assert api_client.get(URL).status_code == 401

    def test_another_organizations_movement_is_404_and_not_listed(self, other_admin_client, widget):
        movement = StockMovement.objects.get(product=widget)
        assert other_admin_client.get(f"{URL}{movement.pk}/").status_code == 404
        assert other_admin_client.get(URL).json()["count"] == 0


@pytest.mark.django_db
class TestList:
    def test_newest_first_with_all_fields(self, admin_client, widget):
        post(admin_client, product=widget.pk, movement_type="OUT", quantity=1)
        results = admin_client.get(URL).json()["results"]
        assert [r["movement_type"] for r in results] == ["OUT", "IN"]
        assert results[1]["source"] == "initial"
        assert set(results[0]) == {
            "id",
            "product",
            "sku",
            "product_name",
            "location",
            "location_name",
            "movement_type",
            "quantity",
            "unit_cost",
            "lots",
            "delta",
            "balance_after",
            "note",
            "source",
            "reference",
            "performed_by",
            "created_at",
        }

    def test_filters(self, admin_client, widget, stocked, organization):
        other = stocked(quantity=3, organization=organization)
        post(admin_client, product=widget.pk, movement_type="OUT", quantity=2)

        def ids(**params):
            return [r["id"] for r in admin_client.get(URL, params).json()["results"]]

        assert len(ids(product=widget.pk)) == 2
        assert len(ids(product=other.pk)) == 1
        assert len(ids(movement_type="OUT")) == 1
        assert len(ids(source="initial")) == 2
        assert len(ids(source="manual", product=widget.pk)) == 1

    def test_date_filters_are_inclusive_utc_dates(self, admin_client, widget):
        today = timezone.now().astimezone(datetime.UTC).date()
        yesterday = today - datetime.timedelta(days=1)
        assert admin_client.get(URL, {"date_from": today}).json()["count"] == 1
        assert admin_client.get(URL, {"date_to": today}).json()["count"] == 1
        assert admin_client.get(URL, {"date_to": yesterday}).json()["count"] == 0
        assert (
            admin_client.get(URL, {"date_from": today + datetime.timedelta(days=1)}).json()["count"]
            == 0
        )
        assert admin_client.get(URL, {"date_to": "9999-12-31"}).json()["count"] == 1

    @pytest.mark.parametrize(
        "params",
        [
            {"date_from": "yesterday"},
            {"date_to": "2026-13-01"},
            {"movement_type": "MOVE"},
            {"source": "magic"},
            {"product": "abc"},
            {"product": "1.5"},
            {"product": str(10**30)},
        ],
    )
    def test_malformed_filters_are_400(self, admin_client, widget, params):
        assert admin_client.get(URL, params).status_code == 400

    def test_query_count_does_not_grow_with_rows(
        self, admin_client, admin_user, stocked, organization, django_assert_max_num_queries
    ):
        for _ in range(2):
            stocked(quantity=1, user=admin_user, organization=organization)
        with django_assert_max_num_queries(MAX_QUERIES):
            assert admin_client.get(URL).status_code == 200
        for _ in range(15):
            stocked(quantity=1, user=admin_user, organization=organization)
        with django_assert_max_num_queries(MAX_QUERIES):
            assert len(admin_client.get(URL).json()["results"]) == 17

    def test_detail_query_count(self, admin_client, widget, django_assert_max_num_queries):
        movement = StockMovement.objects.get(product=widget)
        with django_assert_max_num_queries(MAX_QUERIES):
            response = admin_client.get(f"{URL}{movement.pk}/")
        assert response.json()["balance_after"] == 10


@pytest.mark.django_db
class TestExport:
    def read(self, response):
        raw = b"".join(response.streaming_content)
        assert raw.startswith("\ufeff".encode())  # the byte-order mark, for Excel
        return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))

    def test_streams_the_filtered_rows_as_csv(self, admin_client, widget, stocked, organization):
        stocked(quantity=2, organization=organization)
        post(admin_client, product=widget.pk, movement_type="OUT", quantity=3, note="=HYPERLINK(1)")
        response = admin_client.get(f"{URL}export/", {"product": widget.pk})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith('attachment; filename="stock-movements-')
        rows = self.read(response)
        header, data = rows[0], rows[1:]
        listed = admin_client.get(URL, {"product": widget.pk}).json()["results"]
        # The list's columns in its order (the product's SKU and name beside its id).
        assert header == [*listed[0].keys()]
        assert [row[header.index("delta")] for row in data] == ["-3", "10"]
        assert data[0][header.index("note")] == "'=HYPERLINK(1)"
        assert data[0][header.index("sku")] == "WID-1"
        assert data[0][header.index("created_at")] == listed[0]["created_at"]

    def test_accept_csv_and_other_organizations_rows(self, other_admin_client, widget):
        response = other_admin_client.get(f"{URL}export/", HTTP_ACCEPT="text/csv")
        assert response.status_code == 200
        assert len(self.read(response)) == 1  # the header only

    def test_bad_filter_is_400_and_sales_may_export(self, sales_client, widget):
        assert sales_client.get(f"{URL}export/", {"date_from": "x"}).status_code == 400
        assert len(self.read(sales_client.get(f"{URL}export/"))) == 2

    def test_export_query_count_is_constant(
        self, admin_client, stocked, organization, django_assert_max_num_queries
    ):
        for _ in range(30):
            stocked(quantity=1, organization=organization)
        with django_assert_max_num_queries(MAX_QUERIES):
            rows = self.read(admin_client.get(f"{URL}export/"))
        assert len(rows) == 31
        assert Product.objects.count() == 30
