"""The Django admin (API.md: "every model, searchable and filterable; the ledger read-only").

Every registered model's list loads, finds an object by search and answers each of its
filters; every change page loads. Tenancy: an object never changes organization, and a
reference to another organization's object (category, supplier, parent, product of an order
line) is a form error that saves nothing. The ledger and the alerts cannot be added, changed
or deleted, not even by a bulk action; stock quantities are never an input.
"""

import re
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group
from django.db import connection
from django.forms.models import modelform_factory
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token, TokenProxy
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from alerts.models import AlertLog, StockAlert
from core.admin import OrganizationAdminForm
from core.models import AuditEntry
from imports.models import ImportJob
from inventory.models import Category, Product
from orders.services import OrderItem
from purchases import services as purchase_services
from purchases.models import PurchaseOrder, PurchaseOrderItem
from replenishment.models import ReorderRule
from sales import services as sales_services
from sales.models import SalesOrder, SalesOrderItem
from stock import services as stock_services
from stock.models import Location, Lot, StockLevel, StockMovement, Transfer
from stocktakes.models import Stocktake
from stocktakes.services import create_stocktake
from suppliers.models import Supplier
from tests.factories import CategoryFactory, ProductFactory, SupplierFactory, UserFactory
from tests.support.admin import (
    change_url,
    form_errors,
    inline_errors,
    posted,
    url,
    with_new_line,
)
from users.models import Organization, User
from webhooks import services as webhook_services
from webhooks.models import Delivery, Webhook

NAMED_MODELS = {
    "users.User",
    "users.Organization",
    "inventory.Category",
    "inventory.Product",
    "suppliers.Supplier",
    "stock.StockMovement",
    "stock.Location",
    "stock.Lot",
    "stock.StockLevel",
    "purchases.PurchaseOrder",
    "sales.SalesOrder",
    "replenishment.ReorderRule",
    "alerts.AlertLog",
    "alerts.StockAlert",
    "core.AuditEntry",
    "webhooks.Webhook",
    "webhooks.Delivery",
    "stocktakes.Stocktake",
    "imports.ImportJob",
}
REGISTERED = sorted(site._registry, key=lambda model: model._meta.label)


@pytest.fixture
def staff_client(client, db):
    root = UserFactory(username="root", organization=None, is_staff=True, is_superuser=True)
    client.force_login(root)
    return client


@pytest.fixture
def shop(stocked, organization, admin_user):
    """One of everything the admin shows, in `organization`."""
    category = CategoryFactory(organization=organization, name="Tools")
    supplier = SupplierFactory(organization=organization, name="Hammers Inc")
    parent = ProductFactory(organization=organization, sku="HAMMER", name="Hammer",
                            category=category, supplier=supplier, has_variations=True)  # fmt: skip
    variation = stocked(quantity=4, organization=organization, sku="HAMMER-L", name="Hammer L",
                        parent=parent, category=category, supplier=supplier,
                        attributes={"size": "L"})  # fmt: skip
    nails = stocked(quantity=50, organization=organization, sku="NAILS", name="Nails",
                    category=category, supplier=supplier, low_stock_threshold=60)  # fmt: skip
    line = OrderItem(nails, 2, Decimal("1.50"))
    purchase = purchase_services.create_purchase_order(
        organization=organization, user=admin_user, supplier=supplier, items=[line]
    )
    sale = sales_services.create_sales_order(
        organization=organization,
        user=admin_user,
        items=[OrderItem(nails, 2)],
        customer_name="Carol",
    )
    alert = StockAlert.objects.create(
        organization=organization, product=nails, quantity=50, low_stock_threshold=60
    )
    log = AlertLog.objects.create(
        organization=organization,
        kind=AlertLog.Kind.CROSSING,
        recipients=["alice@example.com"],
        subject="Low stock at Corner Shop",
        low_stock_count=1,
    )
    back_room = stock_services.create_location(organization=organization, name="Back room")
    transfer = stock_services.transfer_stock(
        product=nails, from_location=stock_services.default_location(
            organization_id=organization.pk), to_location=back_room, quantity=5, user=admin_user,
    )  # fmt: skip
    yoghurt = ProductFactory(organization=organization, sku="YOG", name="Yoghurt", track_lots=True)
    stock_services.record_movement(product=yoghurt, movement_type="IN", quantity=3,
                                   user=admin_user, lot_code="L-7")  # fmt: skip
    stocktake = create_stocktake(organization=organization, location=back_room,
                                 user=admin_user, note="Weekly count")  # fmt: skip
    spreadsheet = ImportJob.objects.create(
        organization=organization, file_name="shop.csv", file_format="csv", created_by=admin_user,
        status=ImportJob.Status.FAILED, errors=[{"row": 3, "column": "price", "message": "Bad."}],
    )  # fmt: skip
    Token.objects.create(user=admin_user)
    RefreshToken.for_user(admin_user).blacklist()
    hook = Webhook.objects.create(
        organization=organization, url="https://hooks.example.com/stockroom",
        events=["stock.changed"], encrypted_secret="-",
    )  # fmt: skip
    webhook_services.ping(webhook=hook)
    return {
        Stocktake: stocktake,
        Organization: organization,
        User: admin_user,
        Group: Group.objects.get(name="admin"),
        Category: category,
        Supplier: supplier,
        Product: nails,
        "parent": parent,
        "variation": variation,
        StockMovement: StockMovement.objects.get(product=yoghurt),
        Location: back_room,
        Lot: Lot.objects.get(code="L-7"),
        StockLevel: StockLevel.objects.get(product=nails, location=back_room),
        Transfer: transfer,
        PurchaseOrder: purchase,
        SalesOrder: sale,
        StockAlert: alert,
        AlertLog: log,
        ImportJob: spreadsheet,
        TokenProxy: TokenProxy.objects.get(user=admin_user),
        OutstandingToken: OutstandingToken.objects.get(user=admin_user),
        BlacklistedToken: BlacklistedToken.objects.get(token__user=admin_user),
        AuditEntry: AuditEntry.objects.filter(object_type="location").first(),
        Webhook: hook,
        Delivery: Delivery.objects.get(),
        ReorderRule: ReorderRule.objects.create(
            organization=organization, product=nails, location=back_room, supplier=supplier,
            min_quantity=10, max_quantity=80,
        ),
    }  # fmt: skip


@pytest.fixture
def rival(other_organization):
    """Objects of another organization, to reference where they do not belong."""
    return {
        "category": CategoryFactory(organization=other_organization, name="Rival tools"),
        "supplier": SupplierFactory(organization=other_organization, name="Rival supplies"),
        "product": ProductFactory(organization=other_organization, sku="RIVAL-1"),
    }


def search_term(obj, admin) -> str:
    """A value of the object's first search field that has one."""
    for path in admin.search_fields:
        value = obj
        for part in path.lstrip("^=@").split("__"):
            value = getattr(value, part, None)
        if value not in (None, ""):
            return str(value)
    raise AssertionError(f"{type(obj).__name__} has no value to search for")


# --- Every model: list, search, filters, change page ---------------------------------------


def test_every_model_of_the_api_is_registered():
    assert {model._meta.label for model in REGISTERED} >= NAMED_MODELS


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_changelist_search_and_every_filter(staff_client, shop, rival, model):
    admin = site._registry[model]
    obj = shop[model]
    assert admin.search_fields, "searchable"

    response = staff_client.get(url(model), {"q": search_term(obj, admin)}, secure=True)

    assert response.status_code == 200
    assert obj.pk in [row.pk for row in response.context["cl"].result_list]
    changelist = response.context["cl"]
    if model._meta.label in NAMED_MODELS:
        assert changelist.filter_specs, "filterable"
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist):
            filtered = staff_client.get(url(model) + choice["query_string"], secure=True)
            assert filtered.status_code == 200, (spec.title, choice["query_string"])


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_change_page(staff_client, shop, model):
    response = staff_client.get(change_url(shop[model]), secure=True)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "key", [Product, "parent", "variation", StockMovement, StockAlert, Lot, Location]
)
def test_stock_quantities_are_never_an_input(staff_client, shop, key):
    html = staff_client.get(change_url(shop[key]), secure=True).content.decode()
    # (a supplier product's minimum_order_quantity is no stock quantity)
    assert not re.search(r'name="[^"]*(?<!order_)quantity"', html)  # nor in the variations inline


# --- The ledger and the alerts are read-only -----------------------------------------------


@pytest.mark.parametrize("model", [StockMovement, StockAlert, AlertLog, StockLevel, Transfer])
def test_read_only_admins_refuse_add_change_and_delete(staff_client, shop, model):
    obj = shop[model]
    before = model.objects.count()

    assert staff_client.get(url(model, "add"), secure=True).status_code == 403
    assert staff_client.post(url(model, "add"), {}, secure=True).status_code == 403
    assert staff_client.post(change_url(obj), {"note": "x"}, secure=True).status_code == 403
    assert staff_client.get(url(model, "delete", obj.pk), secure=True).status_code == 403
    delete = staff_client.post(url(model, "delete", obj.pk), {"post": "yes"}, secure=True)
    assert delete.status_code == 403
    changelist = staff_client.get(url(model), secure=True)
    assert 'name="action"' not in changelist.content.decode()  # no bulk action at all
    staff_client.post(
        url(model),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
        secure=True,
    )

    assert model.objects.count() == before
    assert model.objects.filter(pk=obj.pk).exists()


def test_ledger_change_page_is_view_only(staff_client, shop):
    response = staff_client.get(change_url(shop[StockMovement]), secure=True)
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert 'name="_save"' not in response.content.decode()


def test_the_ledger_page_shows_the_location_and_the_lots(staff_client, shop):
    html = staff_client.get(change_url(shop[StockMovement]), secure=True).content.decode()
    assert "Main" in html and "L-7" in html


# --- Locations and lots through the stock services -----------------------------------------


def test_a_location_added_as_default_takes_over(staff_client, shop, organization):
    page = staff_client.get(url(Location, "add"), secure=True)
    data = posted(page, organization=organization.pk, name="Shop floor", is_default="on")
    response = staff_client.post(url(Location, "add"), data, secure=True)
    assert response.status_code == 302, form_errors(response)
    assert list(
        Location.objects.filter(organization=organization, is_default=True).values_list(
            "name", flat=True
        )
    ) == ["Shop floor"]


def test_the_default_location_stays_it_and_names_stay_unique(staff_client, shop, organization):
    main = stock_services.default_location(organization_id=organization.pk)
    page = staff_client.get(change_url(main), secure=True)
    data = posted(page)
    data.pop("is_default")  # unticked
    response = staff_client.post(change_url(main), data, secure=True)
    assert response.status_code == 200
    assert "is_default" in form_errors(response)
    response = staff_client.post(change_url(main), posted(page, name="back ROOM"), secure=True)
    assert response.status_code == 200
    assert form_errors(response)
    main.refresh_from_db()
    assert (main.name, main.is_default) == ("Main", True)


def test_deleting_locations_keeps_those_with_stock_or_history(staff_client, shop, organization):
    empty = stock_services.create_location(organization=organization, name="Empty")
    back_room = shop[Location]  # holds 5 nails
    response = staff_client.post(
        url(Location),
        {"action": "archive_or_delete", "_selected_action": [empty.pk, back_room.pk]},
        secure=True,
        follow=True,
    )
    assert response.status_code == 200
    assert not Location.objects.filter(pk=empty.pk).exists()
    back_room.refresh_from_db()
    assert not back_room.is_archived
    assert "still holds 5" in response.content.decode()


def test_a_lots_expiry_is_corrected_and_the_product_follows(staff_client, shop):
    lot = shop[Lot]
    page = staff_client.get(change_url(lot), secure=True)
    response = staff_client.post(
        change_url(lot), posted(page, expiration_date="2031-01-31"), secure=True
    )
    assert response.status_code == 302, form_errors(response)
    assert str(Product.objects.get(pk=lot.product_id).expiration_date) == "2031-01-31"


# --- The organization never changes ---------------------------------------------------------


def test_product_add_sets_the_organization(staff_client, shop, organization):
    response = staff_client.get(url(Product, "add"), secure=True)
    assert "organization" in response.context["adminform"].form.fields
    data = posted(response, organization=organization.pk, sku="SAW", name="Saw", price="9.00")

    response = staff_client.post(url(Product, "add"), data, secure=True)

    assert response.status_code == 302
    assert Product.objects.get(sku="SAW").organization == organization


@pytest.mark.parametrize(
    "key", [Category, Supplier, Product, PurchaseOrder, SalesOrder, Location, Lot]
)
def test_organization_is_read_only_on_change(staff_client, shop, key, other_organization):
    obj = shop[key]
    page = staff_client.get(change_url(obj), secure=True)
    assert "organization" not in page.context["adminform"].form.fields
    assert 'name="organization"' not in page.content.decode()

    response = staff_client.post(
        change_url(obj), posted(page, organization=other_organization.pk), secure=True
    )

    assert response.status_code == 302, form_errors(response)
    obj.refresh_from_db()
    assert obj.organization_id == shop[Organization].pk


def test_moving_a_product_with_stock_is_impossible(staff_client, shop, other_organization):
    nails = shop[Product]
    page = staff_client.get(change_url(nails), secure=True)
    staff_client.post(
        change_url(nails), posted(page, organization=other_organization.pk), secure=True
    )
    nails.refresh_from_db()
    assert nails.organization_id == StockMovement.objects.filter(product=nails)[0].organization_id


# --- References to another organization are form errors -------------------------------------


@pytest.mark.parametrize("field", ["category", "supplier"])
def test_product_change_refuses_another_organizations_reference(staff_client, shop, rival, field):
    nails = shop[Product]
    page = staff_client.get(change_url(nails), secure=True)

    response = staff_client.post(
        change_url(nails), posted(page, **{field: rival[field].pk, "name": "Renamed"}), secure=True
    )

    assert response.status_code == 200
    assert form_errors(response)[field] == ["Must belong to the product's organization."]
    nails.refresh_from_db()
    before = shop[Category] if field == "category" else shop[Supplier]
    assert (getattr(nails, field), nails.name) == (before, "Nails")


def test_product_add_refuses_another_organizations_category(
    staff_client, shop, rival, organization
):
    page = staff_client.get(url(Product, "add"), secure=True)
    data = posted(page, organization=organization.pk, sku="SAW", name="Saw", price="9.00",
                  category=rival["category"].pk)  # fmt: skip

    response = staff_client.post(url(Product, "add"), data, secure=True)

    assert response.status_code == 200
    assert "category" in form_errors(response)
    assert not Product.objects.filter(sku="SAW").exists()


def test_a_parent_of_another_organization_is_a_form_error(shop, rival, organization):
    """The shared form checks every reference, `parent` included (read-only in ProductAdmin)."""
    form_class = modelform_factory(
        Product,
        form=OrganizationAdminForm,
        fields=["organization", "sku", "name", "price", "parent"],
    )
    data = {"organization": organization.pk, "sku": "X", "name": "X", "price": "1.00"}

    foreign = form_class({**data, "parent": rival["product"].pk})
    own = form_class({**data, "parent": shop["parent"].pk})

    assert foreign.errors == {"parent": ["Must belong to the product's organization."]}
    assert own.is_valid(), own.errors


def test_the_product_admin_ignores_a_posted_parent(staff_client, shop, rival):
    nails = shop[Product]
    page = staff_client.get(change_url(nails), secure=True)
    staff_client.post(change_url(nails), posted(page, parent=rival["product"].pk), secure=True)
    nails.refresh_from_db()
    assert nails.parent_id is None


def test_purchase_order_refuses_another_organizations_supplier(staff_client, shop, rival):
    order = shop[PurchaseOrder]
    page = staff_client.get(change_url(order), secure=True)

    response = staff_client.post(
        change_url(order), posted(page, supplier=rival["supplier"].pk, notes="x"), secure=True
    )

    assert response.status_code == 200
    assert form_errors(response)["supplier"] == [
        "Must belong to the purchase order's organization."
    ]
    order.refresh_from_db()
    assert (order.supplier, order.notes) == (shop[Supplier], "")


@pytest.mark.parametrize(
    ("order_key", "line_model", "price_field"),
    [(PurchaseOrder, PurchaseOrderItem, "unit_cost"), (SalesOrder, SalesOrderItem, "unit_price")],
)
def test_an_order_line_for_another_organizations_product_is_a_form_error(
    staff_client, shop, rival, order_key, line_model, price_field
):
    order = shop[order_key]
    page = staff_client.get(change_url(order), secure=True)
    data = with_new_line(
        posted(page), "items", product=rival["product"].pk, quantity=5, **{price_field: "1.00"}
    )

    response = staff_client.post(change_url(order), data, secure=True)

    assert response.status_code == 200
    owner = order._meta.verbose_name
    assert inline_errors(response)[0][-1] == {
        "product": [f"Must belong to the {owner}'s organization."]
    }
    assert not line_model.objects.filter(product=rival["product"]).exists()
    assert line_model.objects.filter(order=order).count() == 1


@pytest.mark.parametrize(
    ("order_key", "line_model", "price_field"),
    [(PurchaseOrder, PurchaseOrderItem, "unit_cost"), (SalesOrder, SalesOrderItem, "unit_price")],
)
def test_changing_a_line_to_another_organizations_product_is_a_form_error(
    staff_client, shop, rival, order_key, line_model, price_field
):
    order = shop[order_key]
    page = staff_client.get(change_url(order), secure=True)

    response = staff_client.post(
        change_url(order), posted(page, **{"items-0-product": rival["product"].pk}), secure=True
    )

    assert response.status_code == 200
    assert "product" in inline_errors(response)[0][0]
    assert line_model.objects.get(order=order).product == shop[Product]


def test_an_order_line_of_the_orders_organization_is_saved(staff_client, shop, stocked):
    order = shop[PurchaseOrder]
    screws = stocked(quantity=0, organization=shop[Organization], sku="SCREWS")
    page = staff_client.get(change_url(order), secure=True)
    data = with_new_line(posted(page), "items", product=screws.pk, quantity=5, unit_cost="0.10")

    response = staff_client.post(change_url(order), data, secure=True)

    assert response.status_code == 302
    assert order.items.filter(product=screws, quantity=5).exists()


@pytest.mark.parametrize(
    ("which", "message"), [("parent", "has variations"), ("archived", "archived")]
)
def test_an_order_line_must_keep_stock(staff_client, shop, which, message):
    """A product with variations, or an archived one, cannot be received or sold (as in the API)."""
    product = shop["parent"]
    if which == "archived":
        product = ProductFactory(organization=shop[Organization], is_archived=True)
    order = shop[PurchaseOrder]
    page = staff_client.get(change_url(order), secure=True)
    data = with_new_line(posted(page), "items", product=product.pk, quantity=1, unit_cost="1")

    response = staff_client.post(change_url(order), data, secure=True)

    assert response.status_code == 200
    assert message in inline_errors(response)[0][-1]["product"][0]
    assert order.items.count() == 1


def test_a_received_order_keeps_its_supplier_and_lines(staff_client, shop, admin_user):
    order = shop[PurchaseOrder]
    purchase_services.update_purchase_order(order=order, user=admin_user, status="received")
    other_supplier = SupplierFactory(organization=shop[Organization])
    page = staff_client.get(change_url(order), secure=True)
    assert "supplier" not in page.context["adminform"].form.fields
    assert "notes" not in page.context["adminform"].form.fields

    data = posted(page, supplier=other_supplier.pk, **{"items-0-quantity": 99})
    response = staff_client.post(change_url(order), data, secure=True)

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.supplier == shop[Supplier]
    assert order.items.get().quantity == 2


def test_a_submitted_orders_location_is_read_only_as_the_service_says(
    staff_client, shop, admin_user
):
    """What each status lets change is stated once, in the service (`editable_fields`): the
    admin used to let a submitted order's location change, which the API refuses (409)."""
    order = purchase_services.update_purchase_order(
        order=shop[PurchaseOrder], user=admin_user, status="submitted"
    )
    page = staff_client.get(change_url(order), secure=True)
    fields = page.context["adminform"].form.fields
    assert "location" not in fields and "supplier" not in fields
    assert "notes" in fields  # notes and date until received

    response = staff_client.post(
        change_url(order), posted(page, location=shop[Location].pk, notes="Call first"),
        secure=True,
    )  # fmt: skip

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.location.is_default, order.notes) == (True, "Call first")


def test_an_order_edited_in_the_admin_is_saved_through_its_service(
    staff_client, shop, admin_user, stocked
):
    """Fields and lines together, as one PATCH would: the lines are replaced by the service
    (its rules: stock-keeping products, the organization's), the customer changes."""
    order = shop[SalesOrder]
    screws = stocked(quantity=0, organization=shop[Organization], sku="SCREWS", price="0.20")
    page = staff_client.get(change_url(order), secure=True)
    data = with_new_line(posted(page, customer_name="Dora"), "items", product=screws.pk,
                         quantity=5, unit_price="0.20")  # fmt: skip

    response = staff_client.post(change_url(order), data, secure=True)

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.customer_name == "Dora"
    lines = list(order.items.values_list("product__sku", "quantity"))
    assert lines == [("NAILS", 2), ("SCREWS", 5)]
    history = LogEntry.objects.get(object_id=order.pk).get_change_message()
    assert history.startswith("Changed Customer name. Added sales order item")


# --- Uniqueness within the (read-only) organization is a form error, never a 500 -------------


@pytest.mark.parametrize(
    ("key", "field", "value"),
    [(Product, "sku", "HAMMER"), (Category, "name", "tools"), (Supplier, "name", "Rival")],
)
def test_a_duplicate_within_the_organization_is_a_form_error(staff_client, shop, key, field, value):
    SupplierFactory(organization=shop[Organization], name="Rival")
    obj = shop[key]
    if key is Category:
        obj = CategoryFactory(organization=shop[Organization], name="Garden")
    page = staff_client.get(change_url(obj), secure=True)

    response = staff_client.post(change_url(obj), posted(page, **{field: value}), secure=True)

    assert response.status_code == 200
    assert form_errors(response)
    obj.refresh_from_db()
    assert getattr(obj, field) != value


def test_the_same_name_in_another_organization_is_fine(staff_client, shop, rival):
    supplier = shop[Supplier]
    page = staff_client.get(change_url(supplier), secure=True)
    response = staff_client.post(
        change_url(supplier), posted(page, name=rival["supplier"].name), secure=True
    )
    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.name == "Rival supplies"


# --- Variations ----------------------------------------------------------------------------


def test_a_variations_category_and_supplier_are_its_parents(staff_client, shop):
    page = staff_client.get(change_url(shop["variation"]), secure=True)
    fields = page.context["adminform"].form.fields
    assert "category" not in fields and "supplier" not in fields


def test_a_parents_new_supplier_passes_to_its_variations(staff_client, shop):
    parent, variation = shop["parent"], shop["variation"]
    new = SupplierFactory(organization=shop[Organization])
    page = staff_client.get(change_url(parent), secure=True)

    response = staff_client.post(change_url(parent), posted(page, supplier=new.pk), secure=True)

    assert response.status_code == 302
    variation.refresh_from_db()
    assert (variation.supplier, variation.quantity) == (new, 4)


def test_two_variations_cannot_share_attributes(staff_client, shop, stocked):
    parent = shop["parent"]
    stocked(
        organization=shop[Organization], parent=parent, sku="HAMMER-M", attributes={"size": "M"}
    )
    page = staff_client.get(change_url(parent), secure=True)

    response = staff_client.post(
        change_url(parent),
        posted(page, **{"variations-1-attributes": '{"size": "L"}'}),
        secure=True,
    )

    assert response.status_code == 200
    assert any("attributes" in errors for errors in inline_errors(response)[0])
    assert parent.variations.get(sku="HAMMER-M").attributes == {"size": "M"}


# --- Deleting orders -----------------------------------------------------------------------


def receive(order, user):
    purchase_services.update_purchase_order(order=order, user=user, status="received")


def cancel(order, user):
    sales_services.update_sales_order(order=order, user=user, status="cancelled")


@pytest.mark.parametrize(
    ("order_key", "action", "close"),
    [(PurchaseOrder, "delete_open_orders", receive), (SalesOrder, "delete_open_orders", cancel)],
)
def test_bulk_delete_removes_only_open_orders(
    staff_client, shop, admin_user, order_key, action, close
):
    closed = shop[order_key]
    close(closed, admin_user)
    if order_key is PurchaseOrder:
        open_order = purchase_services.create_purchase_order(
            organization=shop[Organization], user=admin_user, supplier=shop[Supplier], items=[]
        )
    else:
        open_order = sales_services.create_sales_order(
            organization=shop[Organization], user=admin_user, items=[]
        )
    changelist = staff_client.get(url(order_key), secure=True).content.decode()
    assert 'value="delete_selected"' not in changelist

    response = staff_client.post(
        url(order_key),
        {"action": action, "_selected_action": [closed.pk, open_order.pk]},
        secure=True,
    )

    assert response.status_code == 302
    assert list(order_key.objects.values_list("pk", flat=True)) == [closed.pk]


def test_a_closed_order_cannot_be_deleted_one_by_one(staff_client, shop, admin_user):
    order = shop[SalesOrder]
    sales_services.update_sales_order(order=order, user=admin_user, status="fulfilled")
    response = staff_client.post(url(SalesOrder, "delete", order.pk), {"post": "yes"}, secure=True)
    assert response.status_code == 403
    assert SalesOrder.objects.filter(pk=order.pk).exists()


@pytest.mark.postgres
def test_saving_an_order_locks_it_like_a_status_move(staff_client, shop):
    """The admin's checks (still a draft?) and writes happen under the order's row lock."""
    order = shop[PurchaseOrder]
    page = staff_client.get(change_url(order), secure=True)
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.post(
            change_url(order), posted(page, notes="Call first"), secure=True
        )
    assert response.status_code == 302
    locks = [q["sql"] for q in queries if "FOR NO KEY UPDATE" in q["sql"]]
    assert locks and '"purchases_purchaseorder"' in locks[0]
