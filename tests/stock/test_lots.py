"""API.md "Lots (with FEFO)": lots made by IN movements, their expiry, FEFO picking, expired
stock never picked by the server, and what products say about their lots."""

import datetime
from types import SimpleNamespace

import pytest

from inventory.models import Product
from stock import services
from stock.models import Lot, MovementLot, StockMovement
from tests.factories import ProductFactory
from tests.support.stock import days, levels, move, receive_lot

URL = "/api/lots/"
PRODUCTS = "/api/products/"
FIELDS = {"id", "product", "sku", "code", "expiration_date", "quantity", "is_expired", "created_at"}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_stays_true")]


def lot_quantities(product) -> dict[str, int]:
    return dict(Lot.objects.filter(product=product).values_list("code", "quantity"))


class TestLotCodes:
    def test_an_in_with_a_new_code_creates_the_lot_with_its_expiry(self, admin_client, yoghurt):
        response = move(
            admin_client,
            product=yoghurt.pk,
            movement_type="IN",
            quantity=24,
            lot_code="L-0412",
            expiration_date=str(days(10)),
        )
        assert response.status_code == 201, response.json()
        lot = Lot.objects.get(product=yoghurt)
        assert (lot.code, lot.expiration_date, lot.quantity) == ("L-0412", days(10), 24)
        assert response.json()["lots"] == [
            {"lot": lot.pk, "lot_code": "L-0412", "expiration_date": str(days(10)), "delta": 24}
        ]
        body = admin_client.get(f"{PRODUCTS}{yoghurt.pk}/").json()
        assert (body["quantity"], body["expiration_date"]) == (24, str(days(10)))

    def test_a_second_in_of_the_same_code_adds_to_it_case_insensitively(
        self, admin_client, yoghurt
    ):
        receive_lot(yoghurt, "L-1", 5, expires=days(3))
        response = move(
            admin_client, product=yoghurt.pk, movement_type="IN", quantity=2, lot_code="l-1"
        )
        assert response.status_code == 201
        assert lot_quantities(yoghurt) == {"L-1": 7}

    def test_a_different_expiry_for_a_known_lot_is_400(self, admin_client, yoghurt):
        receive_lot(yoghurt, "L-1", 5, expires=days(3))
        response = move(
            admin_client,
            product=yoghurt.pk,
            movement_type="IN",
            quantity=2,
            lot_code="L-1",
            expiration_date=str(days(4)),
        )
        assert response.status_code == 400
        assert "expiration_date" in response.json()
        assert lot_quantities(yoghurt) == {"L-1": 5}

    def test_an_in_without_a_lot_code_on_a_lot_tracked_product_is_400(self, admin_client, yoghurt):
        for movement_type in ("IN", "ADJUST"):
            response = move(
                admin_client, product=yoghurt.pk, movement_type=movement_type, quantity=3
            )
            assert response.status_code == 400
            assert "lot_code" in response.json()
        assert not StockMovement.objects.filter(product=yoghurt).exists()

    def test_a_lot_code_on_a_product_without_lots_is_400(self, admin_client, stocked, organization):
        product = stocked(quantity=3, organization=organization)
        for movement_type in ("IN", "OUT", "ADJUST"):
            response = move(
                admin_client,
                product=product.pk,
                movement_type=movement_type,
                quantity=1,
                lot_code="L-1",
            )
            assert response.status_code == 400
            assert "lot_code" in response.json()
        assert not Lot.objects.exists()
        assert StockMovement.objects.filter(product=product).count() == 1

    def test_an_out_of_an_unknown_lot_is_400(self, admin_client, yoghurt):
        receive_lot(yoghurt, "L-1", 5)
        response = move(
            admin_client, product=yoghurt.pk, movement_type="OUT", quantity=1, lot_code="NOPE"
        )
        assert response.status_code == 400
        assert "lot_code" in response.json()

    def test_an_adjust_counts_one_lot_at_one_location(self, admin_client, yoghurt, back_room):
        receive_lot(yoghurt, "L-1", 5, expires=days(3))
        receive_lot(yoghurt, "L-1", 4, expires=days(3), location=back_room)
        receive_lot(yoghurt, "L-2", 6, expires=days(9))
        response = move(
            admin_client,
            product=yoghurt.pk,
            movement_type="ADJUST",
            quantity=2,
            lot_code="L-1",
            location=back_room.pk,
        )
        assert response.status_code == 201
        assert response.json()["delta"] == -2
        assert levels(yoghurt) == {("Main", "L-1"): 5, ("Back room", "L-1"): 2, ("Main", "L-2"): 6}
        assert lot_quantities(yoghurt) == {"L-1": 7, "L-2": 6}


class TestFefo:
    @pytest.fixture
    def shelf(self, yoghurt):
        """Three lots at Main: one expired, one soon, one later; and one with no expiry."""
        receive_lot(yoghurt, "OLD", 4, expires=days(-1))
        receive_lot(yoghurt, "LATE", 5, expires=days(20))
        receive_lot(yoghurt, "NONE", 5)
        receive_lot(yoghurt, "SOON", 3, expires=days(2))
        return yoghurt

    def test_an_out_without_a_lot_takes_the_earliest_unexpired_first(self, admin_client, shelf):
        response = move(admin_client, product=shelf.pk, movement_type="OUT", quantity=6)
        assert response.status_code == 201, response.json()
        assert [(line["lot_code"], line["delta"]) for line in response.json()["lots"]] == [
            ("SOON", -3),
            ("LATE", -3),
        ]
        assert lot_quantities(shelf) == {"OLD": 4, "SOON": 0, "LATE": 2, "NONE": 5}

    def test_lots_without_expiry_come_last_and_the_oldest_first_among_equals(
        self, admin_client, shelf
    ):
        receive_lot(shelf, "NONE-2", 5)
        response = move(admin_client, product=shelf.pk, movement_type="OUT", quantity=14)
        assert [(line["lot_code"], line["delta"]) for line in response.json()["lots"]] == [
            ("SOON", -3),
            ("LATE", -5),
            ("NONE", -5),
            ("NONE-2", -1),
        ]

    def test_expired_stock_is_never_picked_and_the_400_says_how_much_is_there(
        self, admin_client, shelf
    ):
        response = move(admin_client, product=shelf.pk, movement_type="OUT", quantity=14)
        assert response.status_code == 400
        message = str(response.json()["quantity"])
        assert "14 requested, 13 available" in message and "4 more are there but expired" in message
        assert lot_quantities(shelf) == {"OLD": 4, "SOON": 3, "LATE": 5, "NONE": 5}
        assert Product.objects.get(pk=shelf.pk).quantity == 17

    def test_an_out_naming_an_expired_lot_writes_it_off(self, admin_client, shelf):
        response = move(
            admin_client,
            product=shelf.pk,
            movement_type="OUT",
            quantity=4,
            lot_code="OLD",
            note="binned",
        )
        assert response.status_code == 201
        assert lot_quantities(shelf)["OLD"] == 0
        body = admin_client.get(f"{PRODUCTS}{shelf.pk}/").json()
        assert (body["expired_quantity"], body["is_expired"]) == (0, False)
        assert body["expiration_date"] == str(days(2))  # the earliest lot that holds stock

    def test_a_sale_is_picked_by_fefo_and_short_when_only_expired_stock_is_left(
        self, admin_client, shelf
    ):
        response = admin_client.post(
            "/api/sales-orders/",
            {
                "items": [{"product": shelf.pk, "quantity": 13}],
                "status": "fulfilled",
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert lot_quantities(shelf) == {"OLD": 4, "SOON": 0, "LATE": 0, "NONE": 0}
        response = admin_client.post(
            "/api/sales-orders/",
            {
                "items": [{"product": shelf.pk, "quantity": 1}],
                "status": "fulfilled",
            },
            format="json",
        )
        assert response.status_code == 400
        assert "4 more are there but expired" in str(response.json())

    def test_fefo_takes_only_from_the_location_asked(self, admin_client, yoghurt, back_room):
        receive_lot(yoghurt, "SOON", 3, expires=days(2), location=back_room)
        receive_lot(yoghurt, "LATE", 5, expires=days(20))
        response = move(admin_client, product=yoghurt.pk, movement_type="OUT", quantity=4)
        assert response.status_code == 201
        assert levels(yoghurt) == {("Back room", "SOON"): 3, ("Main", "LATE"): 1}


class TestList:
    def test_fields_and_the_default_order_by_expiry_none_last(self, admin_client, yoghurt):
        receive_lot(yoghurt, "B", 1)
        receive_lot(yoghurt, "A", 1, expires=days(5))
        receive_lot(yoghurt, "C", 1, expires=days(-2))
        results = admin_client.get(URL).json()["results"]
        assert [row["code"] for row in results] == ["C", "A", "B"]
        assert set(results[0]) == FIELDS
        assert (results[0]["sku"], results[0]["is_expired"], results[1]["is_expired"]) == (
            "YOG-1",
            True,
            False,
        )

    def test_filters(self, admin_client, yoghurt, back_room, organization):
        cream = ProductFactory(organization=organization, track_lots=True)
        receive_lot(yoghurt, "GONE", 2, expires=days(-1))
        receive_lot(yoghurt, "SOON", 2, expires=days(3), location=back_room)
        receive_lot(yoghurt, "LATER", 2, expires=days(30))
        receive_lot(cream, "CREAM", 2, expires=days(1))
        services.record_movement(
            product=yoghurt, movement_type="OUT", quantity=2, lot_code="LATER", user=None
        )

        def codes(**params):
            response = admin_client.get(URL, params)
            assert response.status_code == 200, response.json()
            return {row["code"] for row in response.json()["results"]}

        assert codes(product=yoghurt.pk) == {"GONE", "SOON", "LATER"}
        assert codes(location=back_room.pk) == {"SOON"}
        assert codes(expired="true") == {"GONE"}
        assert codes(expired="false") == {"SOON", "LATER", "CREAM"}
        assert codes(expires_within=3) == {"SOON", "CREAM"}
        assert codes(expires_within=0) == set()
        assert codes(in_stock="false") == {"LATER"}
        assert codes(in_stock="true") == {"GONE", "SOON", "CREAM"}

    def test_a_lot_is_expired_from_its_day_however_long_the_server_has_run(
        self, admin_client, yoghurt, monkeypatch
    ):
        """The list's `is_expired` used to be computed against the day the process imported
        the view (its queryset was built at import): a server started before the lot's day
        kept calling it fresh. It is asked of core.dates.local_today on every request."""
        receive_lot(yoghurt, "L-1", 1, expires=days(1))
        assert admin_client.get(URL).json()["results"][0]["is_expired"] is False

        later = datetime.datetime.combine(days(2), datetime.time(12), tzinfo=datetime.UTC)
        monkeypatch.setattr("core.dates.timezone", SimpleNamespace(now=lambda: later))

        assert admin_client.get(URL).json()["results"][0]["is_expired"] is True
        assert admin_client.get(URL, {"expired": "true"}).json()["count"] == 1

    @pytest.mark.parametrize(
        "params", [{"expired": "maybe"}, {"expires_within": "-1"}, {"product": "x"}]
    )
    def test_a_malformed_filter_is_400(self, admin_client, params):
        assert admin_client.get(URL, params).status_code == 400

    def test_other_organizations_lots_are_invisible(self, other_admin_client, yoghurt):
        receive_lot(yoghurt, "L-1", 2)
        lot = Lot.objects.get()
        assert other_admin_client.get(URL).json()["count"] == 0
        assert other_admin_client.get(f"{URL}{lot.pk}/").status_code == 404
        assert (
            other_admin_client.patch(f"{URL}{lot.pk}/", {"expiration_date": None}).status_code
            == 404
        )

    def test_query_count_is_constant(
        self, admin_client, organization, django_assert_max_num_queries
    ):
        for n in range(20):
            product = ProductFactory(organization=organization, track_lots=True)
            receive_lot(product, f"L-{n}", 1, expires=days(n))
        with django_assert_max_num_queries(6):
            response = admin_client.get(URL)
        assert response.json()["count"] == 20


class TestCorrectingAnExpiry:
    def test_patch_moves_the_products_expiry_with_it(self, manager_client, yoghurt):
        receive_lot(yoghurt, "A", 2, expires=days(5))
        receive_lot(yoghurt, "B", 2, expires=days(9))
        lot = Lot.objects.get(code="A")
        response = manager_client.patch(f"{URL}{lot.pk}/", {"expiration_date": str(days(-1))})
        assert response.status_code == 200, response.json()
        assert response.json()["is_expired"] is True
        body = manager_client.get(f"{PRODUCTS}{yoghurt.pk}/").json()
        assert (body["expiration_date"], body["expired_quantity"], body["is_expired"]) == (
            str(days(-1)),
            2,
            True,
        )

    def test_only_the_expiry_changes(self, manager_client, yoghurt):
        receive_lot(yoghurt, "A", 2, expires=days(5))
        lot = Lot.objects.get()
        response = manager_client.patch(f"{URL}{lot.pk}/", {"code": "Z", "quantity": 99})
        assert response.status_code == 200
        lot.refresh_from_db()
        assert (lot.code, lot.quantity) == ("A", 2)

    def test_sales_may_not_and_put_and_delete_are_405(self, sales_client, admin_client, yoghurt):
        receive_lot(yoghurt, "A", 2, expires=days(5))
        lot = Lot.objects.get()
        assert sales_client.get(f"{URL}{lot.pk}/").status_code == 200
        assert sales_client.patch(f"{URL}{lot.pk}/", {"expiration_date": None}).status_code == 403
        assert admin_client.put(f"{URL}{lot.pk}/", {"expiration_date": None}).status_code == 405
        assert admin_client.delete(f"{URL}{lot.pk}/").status_code == 405
        assert admin_client.post(URL, {"code": "X"}).status_code == 405


class TestProductsThatTrackLots:
    def test_create_with_track_lots_and_an_expiry_or_opening_quantity_is_400(self, admin_client):
        for extra in ({"expiration_date": str(days(3))}, {"quantity": 5}):
            response = admin_client.post(
                PRODUCTS, {"name": "Milk", "price": "1.00", "track_lots": True, **extra}
            )
            assert response.status_code == 400, extra
        assert not Product.objects.filter(name="Milk").exists()

    def test_track_lots_switches_only_without_stock(self, admin_client, stocked, organization):
        product = stocked(quantity=3, organization=organization)
        response = admin_client.patch(f"{PRODUCTS}{product.pk}/", {"track_lots": True})
        assert response.status_code == 400
        assert "track_lots" in response.json()
        services.record_movement(product=product, movement_type="OUT", quantity=3, user=None)
        response = admin_client.patch(f"{PRODUCTS}{product.pk}/", {"track_lots": True})
        assert response.status_code == 200
        assert response.json()["track_lots"] is True

    def test_switching_off_while_lots_hold_stock_is_400(self, admin_client, yoghurt):
        receive_lot(yoghurt, "A", 2)
        response = admin_client.patch(f"{PRODUCTS}{yoghurt.pk}/", {"track_lots": False})
        assert response.status_code == 400
        assert Product.objects.get(pk=yoghurt.pk).track_lots is True

    def test_the_expiry_of_a_lot_tracked_product_is_read_only(self, admin_client, yoghurt):
        receive_lot(yoghurt, "A", 2, expires=days(5))
        response = admin_client.patch(
            f"{PRODUCTS}{yoghurt.pk}/", {"expiration_date": str(days(50))}
        )
        assert response.status_code == 400
        assert "expiration_date" in response.json()
        # Sending back what it says is no change.
        response = admin_client.patch(
            f"{PRODUCTS}{yoghurt.pk}/", {"expiration_date": str(days(5)), "name": "Yog"}
        )
        assert response.status_code == 200

    def test_the_quantity_of_a_lot_tracked_product_is_not_edited_on_the_product(
        self, admin_client, yoghurt
    ):
        receive_lot(yoghurt, "A", 2)
        response = admin_client.patch(f"{PRODUCTS}{yoghurt.pk}/", {"quantity": 5})
        assert response.status_code == 400
        assert "movement" in str(response.json()["quantity"])
        assert Product.objects.get(pk=yoghurt.pk).quantity == 2

    def test_expired_quantity_counts_the_expired_lots_only(self, admin_client, yoghurt):
        """Receiving fresh units of an expired product no longer makes them all expired."""
        receive_lot(yoghurt, "OLD", 4, expires=days(-1))
        receive_lot(yoghurt, "NEW", 24, expires=days(14))
        body = admin_client.get(f"{PRODUCTS}{yoghurt.pk}/").json()
        assert (body["quantity"], body["expired_quantity"], body["is_expired"]) == (28, 4, True)
        assert body["expiration_date"] == str(days(-1))

    def test_the_product_list_filters_by_location_and_expiry(
        self, admin_client, yoghurt, back_room, stocked, organization
    ):
        plain = stocked(quantity=3, organization=organization, sku="PLAIN", expiration_date=days(2))
        receive_lot(yoghurt, "SOON", 2, expires=days(5), location=back_room)
        later = ProductFactory(organization=organization, sku="LATER", track_lots=True)
        receive_lot(later, "L", 2, expires=days(40))

        def skus(**params):
            response = admin_client.get(PRODUCTS, params)
            assert response.status_code == 200, response.json()
            return {row["sku"] for row in response.json()["results"]}

        assert skus(location=back_room.pk) == {"YOG-1"}
        assert skus(location=back_room.organization.locations.get(name="Main").pk) == {
            "PLAIN",
            "LATER",
        }
        assert skus(expires_within=2) == {"PLAIN"}
        assert skus(expires_within=7) == {"PLAIN", "YOG-1"}
        assert plain.pk  # used
        assert admin_client.get(PRODUCTS, {"expires_within": "soon"}).status_code == 400
        assert admin_client.get(PRODUCTS, {"location": "x"}).status_code == 400


class TestAlerts:
    def test_expiring_soon_lists_stock_expiring_within_the_days_most_urgent_first(
        self, admin_client, yoghurt, stocked, organization, settings
    ):
        settings.ALERT_EXPIRY_DAYS = 7
        stocked(quantity=3, organization=organization, sku="MILK", expiration_date=days(6))
        stocked(quantity=0, organization=organization, sku="EMPTY", expiration_date=days(1))
        stocked(quantity=3, organization=organization, sku="GONE", expiration_date=days(0))
        receive_lot(yoghurt, "SOON", 2, expires=days(2))
        receive_lot(yoghurt, "OLD", 2, expires=days(-3))
        body = admin_client.get("/api/products/alerts/").json()
        assert [p["sku"] for p in body["expiring_soon"]] == ["YOG-1", "MILK"]
        assert body["expiring_soon_count"] == 2
        assert [p["sku"] for p in body["expired"]] == ["YOG-1", "GONE"]
        body = admin_client.get("/api/products/alerts/", {"days": 3}).json()
        assert [p["sku"] for p in body["expiring_soon"]] == ["YOG-1"]
        assert admin_client.get("/api/products/alerts/", {"days": "-1"}).status_code == 400


def test_an_adjust_below_what_is_reserved_there_is_400(admin_client, stocked, organization, main):
    """A count never goes below what confirmed orders reserve there, and an OUT takes only
    what is left."""
    product = stocked(quantity=10, organization=organization)
    confirmed = admin_client.post(
        "/api/sales-orders/",
        {"status": "confirmed", "items": [{"product": product.pk, "quantity": 6}]},
        format="json",
    )
    assert confirmed.status_code == 201, confirmed.json()
    response = move(admin_client, product=product.pk, movement_type="ADJUST", quantity=5)
    assert response.status_code == 400
    assert "6 unit(s) are reserved" in str(response.json()["quantity"])
    response = move(admin_client, product=product.pk, movement_type="OUT", quantity=5)
    assert response.status_code == 400
    assert "4 available" in str(response.json()["quantity"])
    assert (
        move(admin_client, product=product.pk, movement_type="ADJUST", quantity=6).status_code
        == 201
    )
    assert not MovementLot.objects.exists()
