"""Expiry on the shop's own today (API.md, Organization): at one and the same instant a product
expiring "today" is expired for a shop whose date has reached it and not for one still on the
day before, in every place that asks: the product and its filters, lots and FEFO, the alerts,
the dashboard's expired value and the export's name.

The clock stops at 10:30 UTC on 21 November 2026: already the 22nd in Kiritimati (UTC+14),
still the 20th in Pago Pago (UTC-11)."""

import datetime

import pytest

from core.dates import zone
from sales.models import SalesOrder
from stock import services as stock_services
from tests.factories import OrganizationFactory, ProductFactory, UserFactory
from tests.support.api import client_for
from users import services as user_services
from users.models import Role

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
INSTANT = datetime.datetime(2026, 11, 21, 10, 30, tzinfo=UTC)
THE_21ST = datetime.date(2026, 11, 21)


def shop_in(time_zone: str) -> dict:
    """A shop in the zone with the same stock: MILK (8 units) and a lot-tracked YOG with a lot
    of 4 expiring on the 21st and one of 6 on the 25th."""
    organization = OrganizationFactory(name=time_zone, time_zone=time_zone)
    admin = UserFactory(organization=organization, role=Role.ADMIN)
    milk = ProductFactory(organization=organization, sku="MILK", price="2.00",
                          expiration_date=THE_21ST)  # fmt: skip
    stock_services.record_initial_stock(product=milk, quantity=8, user=admin)
    yoghurt = ProductFactory(organization=organization, sku="YOG", price="1.00", track_lots=True)
    for code, units, expires in (("L21", 4, THE_21ST), ("L25", 6, datetime.date(2026, 11, 25))):
        stock_services.record_movement(
            product=yoghurt, movement_type="IN", quantity=units, user=admin, lot_code=code,
            expiration_date=expires,
        )  # fmt: skip
    return {"organization": organization, "admin": admin, "client": client_for(admin),
            "milk": milk, "yoghurt": yoghurt}  # fmt: skip


@pytest.fixture
def ahead_and_behind(clock):
    clock.move_to(INSTANT)
    return shop_in("Pacific/Kiritimati"), shop_in("Pacific/Pago_Pago")


def get(shop, path, **params):
    response = shop["client"].get(path, params)
    assert response.status_code == 200, response.content
    return response


def test_the_product_is_expired_where_the_21st_has_come(ahead_and_behind):
    ahead, behind = ahead_and_behind
    for shop, expired in ((ahead, True), (behind, False)):
        milk = get(shop, f"/api/products/{shop['milk'].pk}/").json()
        assert (milk["is_expired"], milk["expired_quantity"]) == (expired, 8 if expired else 0)
        yoghurt = get(shop, f"/api/products/{shop['yoghurt'].pk}/").json()
        assert yoghurt["expired_quantity"] == (4 if expired else 0)
        listed = get(shop, "/api/products/", expired="true").json()["results"]
        assert sorted(p["sku"] for p in listed) == (["MILK", "YOG"] if expired else [])
        soon = get(shop, "/api/products/", expires_within="1").json()["results"]
        assert sorted(p["sku"] for p in soon) == ([] if expired else ["MILK", "YOG"])


def test_lots_and_stock_levels_say_the_same(ahead_and_behind):
    ahead, behind = ahead_and_behind
    for shop, expired in ((ahead, True), (behind, False)):
        lots = {lot["code"]: lot["is_expired"] for lot in get(shop, "/api/lots/").json()["results"]}
        assert lots == {"L21": expired, "L25": False}
        expired_lots = get(shop, "/api/lots/", expired="true").json()["results"]
        assert [lot["code"] for lot in expired_lots] == (["L21"] if expired else [])
        levels = get(shop, "/api/stock/levels/", expired="true").json()["results"]
        assert sorted(level["sku"] for level in levels) == (["MILK", "YOG"] if expired else [])


def test_fefo_passes_over_the_lot_only_where_it_has_expired(ahead_and_behind):
    ahead, behind = ahead_and_behind
    for shop, lot_taken in ((ahead, "L25"), (behind, "L21")):
        response = shop["client"].post(
            "/api/sales-orders/",
            {"status": SalesOrder.Status.FULFILLED,
             "items": [{"product": shop["yoghurt"].pk, "quantity": 2}]},
            format="json",
        )  # fmt: skip
        assert response.status_code == 201, response.json()
        (movement,) = get(shop, "/api/stock/movements/", source="sales_order").json()["results"]
        assert [lot["lot_code"] for lot in movement["lots"]] == [lot_taken]


def test_the_alerts_and_the_dashboard_count_it_where_it_has_expired(ahead_and_behind):
    ahead, behind = ahead_and_behind
    alerts = get(ahead, "/api/products/alerts/").json()
    assert (alerts["expired_count"], alerts["expiring_soon_count"]) == (2, 1)  # YOG's L25 too
    alerts = get(behind, "/api/products/alerts/").json()
    assert (alerts["expired_count"], alerts["expiring_soon_count"]) == (0, 2)
    # 8 milk at 2.00 and 4 yoghurts at 1.00 expired where the 21st has come.
    assert get(ahead, "/api/dashboard/").json()["expired_stock_value"] == "20.00"
    assert get(behind, "/api/dashboard/").json()["expired_stock_value"] == "0.00"


def test_exports_are_named_after_the_shops_today(ahead_and_behind):
    ahead, behind = ahead_and_behind
    for shop, day in ((ahead, "2026-11-22"), (behind, "2026-11-20")):
        for path, name in (("/api/products/export/", "products"),
                           ("/api/stock/movements/export/", "stock-movements"),
                           ("/api/stock/levels/export/", "stock-levels")):  # fmt: skip
            response = shop["client"].get(path, HTTP_ACCEPT="text/csv")
            assert response.status_code == 200
            assert f'filename="{name}-{day}.csv"' in response["Content-Disposition"]


def test_the_products_figures_of_each_shop_are_its_own_in_one_process(ahead_and_behind):
    """The product list's annotated queryset is kept per date in a process: shops on different
    dates at the same instant read each their own (in any order, again and again)."""
    ahead, behind = ahead_and_behind
    for _ in range(2):
        for shop, expired in ((behind, False), (ahead, True), (behind, False)):
            rows = get(shop, "/api/products/", sku="MILK").json()["results"]
            assert rows[0]["is_expired"] is expired


def test_a_changed_time_zone_applies_from_the_next_request(ahead_and_behind):
    """Cached figures included: the dashboard and the alerts follow the new zone at once."""
    _, behind = ahead_and_behind
    assert get(behind, "/api/dashboard/").json()["expired_stock_value"] == "0.00"
    assert get(behind, "/api/products/alerts/").json()["expired_count"] == 0

    response = behind["client"].patch(
        "/api/organization/", {"time_zone": "Pacific/Kiritimati"}, format="json"
    )
    assert response.status_code == 200, response.json()

    assert get(behind, "/api/dashboard/").json()["expired_stock_value"] == "20.00"
    assert get(behind, "/api/products/alerts/").json()["expired_count"] == 2
    assert get(behind, f"/api/products/{behind['milk'].pk}/").json()["is_expired"] is True


def test_cached_figures_roll_over_at_local_midnight(clock):
    """Auckland at 23:59 on the 20th, then 00:01 on the 21st: the cached dashboard and alerts
    of the 20th are not the 21st's, although nothing in the shop changed."""
    clock.move_to(datetime.datetime(2026, 11, 20, 23, 59, tzinfo=zone("Pacific/Auckland")))
    shop = shop_in("Pacific/Auckland")
    assert get(shop, "/api/dashboard/").json()["expired_stock_value"] == "0.00"
    assert get(shop, "/api/products/alerts/").json()["expired_count"] == 0

    clock.shift(datetime.timedelta(minutes=2))  # 10:01 UTC: the UTC date has not changed

    assert get(shop, "/api/dashboard/").json()["expired_stock_value"] == "20.00"
    assert get(shop, "/api/products/alerts/").json()["expired_count"] == 2


def test_a_change_of_zone_moves_the_cached_figures_on_even_on_the_same_date(clock):
    """Kiritimati and Auckland share the 22nd at this instant: a move between them keeps the
    date, yet the organization's figures are computed afresh (its version moves on)."""
    clock.move_to(INSTANT)
    shop = shop_in("Pacific/Kiritimati")
    get(shop, "/api/dashboard/")
    from core.cache import cached_version, figures_key

    _, before = cached_version("probe", version_key=figures_key(shop["organization"].pk))
    user_services.update_organization(
        organization=shop["organization"], time_zone="Pacific/Auckland"
    )
    _, after = cached_version("probe", version_key=figures_key(shop["organization"].pk))
    assert before != after


def test_the_admins_expiry_filters_go_by_each_organizations_today(ahead_and_behind, client):
    """Each shop's staff see their own today; a platform superuser, whose lists hold every
    organization, sees each row by its own organization's today."""
    from django.urls import reverse

    ahead, behind = ahead_and_behind
    products = reverse("admin:inventory_product_changelist")

    def listed(user, expiry):
        client.force_login(user)
        response = client.get(products, {"expiry": expiry}, secure=True)
        assert response.status_code == 200
        return sorted((p.organization.name, p.sku) for p in response.context["cl"].result_list)

    for shop in (ahead, behind):
        shop["admin"].admin_access = True
        shop["admin"].save(update_fields=["admin_access"])
    assert listed(ahead["admin"], "expired") == [("Pacific/Kiritimati", "MILK"),
                                                 ("Pacific/Kiritimati", "YOG")]  # fmt: skip
    assert listed(behind["admin"], "expired") == []
    assert listed(behind["admin"], "soon") == [("Pacific/Pago_Pago", "MILK"),
                                               ("Pacific/Pago_Pago", "YOG")]  # fmt: skip
    root = UserFactory(organization=None, is_staff=True, is_superuser=True, role=None)
    assert listed(root, "expired") == [("Pacific/Kiritimati", "MILK"),
                                       ("Pacific/Kiritimati", "YOG")]  # fmt: skip
    assert listed(root, "soon") == [("Pacific/Kiritimati", "YOG"), ("Pacific/Pago_Pago", "MILK"),
                                    ("Pacific/Pago_Pago", "YOG")]  # fmt: skip
