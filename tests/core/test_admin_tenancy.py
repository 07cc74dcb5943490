"""An organization's own staff in the admin (API.md, `/admin/`): they see and change only their
organization's data, as far as their role allows.

The sweep signs in as an org admin and as a manager (both with `admin_access`) of the Corner
Shop and goes through EVERY admin the site registers (a model registered later is swept too):
every URL of another organization's object (change, delete, history, password, ...) is out of
reach and never shows its data, changelists list only the user's own rows whatever the query,
every form choice and filter offers only their own objects, posting another organization's
ids is refused, and the autocomplete never answers with another organization's rows. Every
page of the Quokka Shop's data is recognised by the word "quokka" in its names.
"""

from decimal import Decimal

import pytest
from django import forms
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework_simplejwt.tokens import RefreshToken

from alerts.models import AlertLog, StockAlert
from core.admin import OrganizationScopeMixin, organization_condition, organization_lookup
from imports.models import ImportJob
from inventory.models import Product
from orders.services import OrderItem
from purchases import services as purchase_services
from replenishment.services import create_reorder_rule
from sales import services as sales_services
from stock import services as stock_services
from stocktakes.services import create_stocktake
from suppliers.services import create_supplier_product
from tests.factories import (
    CategoryFactory,
    OrganizationFactory,
    ProductFactory,
    SupplierFactory,
    UserFactory,
)
from tests.support.admin import posted, url
from users.models import Organization, Role
from webhooks import services as webhook_services
from webhooks.models import Webhook

MARKER = "quokka"  # in every name of the other organization's data
REGISTERED = sorted(site._registry, key=lambda model: model._meta.label)
TENANT_MODELS = [m for m in REGISTERED if isinstance(site._registry[m], OrganizationScopeMixin)]
PLATFORM_MODELS = [m for m in REGISTERED if m not in TENANT_MODELS]
SITE_PAGES = [page.name for page in site._pages]  # the site's own: the dashboard, ...


def build_shop(stocked, organization, user, name: str) -> None:
    """One of everything the admin shows, named after the shop."""
    code = name.upper()
    category = CategoryFactory(organization=organization, name=f"{name} tools")
    supplier = SupplierFactory(organization=organization, name=f"{name} supplies")
    parent = ProductFactory(organization=organization, sku=f"{code}-HAMMER", name=f"{name} hammer",
                            category=category, supplier=supplier, has_variations=True)  # fmt: skip
    stocked(quantity=4, organization=organization, sku=f"{code}-HAMMER-L", parent=parent,
            name=f"{name} hammer L", attributes={"size": "L"})  # fmt: skip
    nails = stocked(quantity=50, organization=organization, sku=f"{code}-NAILS",
                    name=f"{name} nails", category=category, supplier=supplier,
                    low_stock_threshold=60)  # fmt: skip
    line = OrderItem(nails, 2, Decimal("1.50"))
    purchase_services.create_purchase_order(
        organization=organization, user=user, supplier=supplier, items=[line],
        notes=f"{name} order",
    )  # fmt: skip
    sales_services.create_sales_order(
        organization=organization,
        user=user,
        items=[OrderItem(nails, 2)],
        customer_name=f"{name} customer",
    )
    StockAlert.objects.create(
        organization=organization, product=nails, quantity=50, low_stock_threshold=60
    )
    AlertLog.objects.create(
        organization=organization, kind=AlertLog.Kind.CROSSING, recipients=[user.email],
        subject=f"Low stock at {name}", low_stock_count=1,
    )  # fmt: skip
    back_room = stock_services.create_location(organization=organization, name=f"{name} yard")
    stock_services.transfer_stock(
        product=nails, to_location=back_room, quantity=5, user=user, note=f"{name} transfer",
        from_location=stock_services.default_location(organization_id=organization.pk),
    )  # fmt: skip
    yoghurt = ProductFactory(organization=organization, sku=f"{code}-YOG", name=f"{name} yoghurt",
                             track_lots=True)  # fmt: skip
    stock_services.record_movement(product=yoghurt, movement_type="IN", quantity=3, user=user,
                                   lot_code=f"{code}-L7", note=f"{name} delivery")  # fmt: skip
    create_stocktake(organization=organization, location=back_room, user=user,
                     note=f"{name} count")  # fmt: skip
    create_supplier_product(organization=organization, supplier=supplier, product=nails,
                            supplier_sku=f"{code}-SUP-NAILS", unit_cost=Decimal("1.20"),
                            pack_size=6, is_preferred=True)  # fmt: skip
    create_reorder_rule(organization=organization, product=nails, location=back_room,
                        min_quantity=10, max_quantity=40)  # fmt: skip
    ImportJob.objects.create(
        organization=organization, file_name=f"{name.lower()}-products.csv", file_format="csv",
        created_by=user, status=ImportJob.Status.DONE,
    )  # fmt: skip
    Token.objects.create(user=user)
    RefreshToken.for_user(user).blacklist()
    hook = Webhook.objects.create(
        organization=organization, url=f"https://{name.lower()}.example.com/hook",
        events=["stock.changed"], encrypted_secret="-",
    )  # fmt: skip
    webhook_services.ping(webhook=hook)


@pytest.fixture
def ours(db, stocked):
    organization = OrganizationFactory(name="Corner Shop")
    owner = UserFactory(username="alice", organization=organization, role=Role.ADMIN,
                        admin_access=True)  # fmt: skip
    UserFactory(username="mike", organization=organization, role=Role.MANAGER, admin_access=True)
    build_shop(stocked, organization, owner, "Corner")
    return organization


@pytest.fixture
def theirs(db, stocked):
    organization = OrganizationFactory(name="Quokka Shop")
    owner = UserFactory(username="quokka-oscar", organization=organization, role=Role.ADMIN,
                        admin_access=True)  # fmt: skip
    build_shop(stocked, organization, owner, "Quokka")
    return organization


@pytest.fixture(params=["alice", "mike"], ids=["org admin", "manager"])
def staff(request, client, ours, theirs):
    """The Corner Shop's admin or manager, signed in to the admin."""
    from users.models import User

    user = User.objects.get(username=request.param)
    client.force_login(user)
    client.user = user
    return client


def an_object(model, organization):
    """One of the organization's rows (any row of a model that belongs to no organization)."""
    rows = model._default_manager.order_by("pk")
    if model in TENANT_MODELS:
        rows = rows.filter(organization_condition(model, organization.pk))
    obj = rows.first()
    assert obj is not None, f"build_shop() makes no {model._meta.label}: add one to the sweep"
    return obj


def admin_urls(model):
    """Every named URL of the model's admin: (name, takes an object)."""
    for pattern in site._registry[model].get_urls():
        if pattern.name:
            yield pattern.name, bool(pattern.pattern.converters)


def shows_no_other_organization(response) -> bool:
    return MARKER not in response.content.decode().lower()


def belongs_to(row, organization) -> bool:
    return (
        type(row)
        ._default_manager.filter(organization_condition(type(row), organization.pk), pk=row.pk)
        .exists()
    )


# --- Reaching another organization's objects by URL ------------------------------------------


def test_every_url_of_another_organizations_object_is_out_of_reach(staff, theirs):
    """GET and POST of every admin URL with the other organization's id: a redirect to the
    index ("does not exist"), a 403 or a 404, never their data; nothing of theirs changes."""
    failures = []
    for model in REGISTERED:
        obj = an_object(model, theirs)
        for name, takes_object in admin_urls(model):
            address = reverse(f"admin:{name}", args=[obj.pk] if takes_object else [])
            for method in ("get", "post"):
                data = {"post": "yes", "action": "delete_selected", "_selected_action": [obj.pk]}
                response = getattr(staff, method)(address, data if method == "post" else None,
                                                  secure=True)  # fmt: skip
                status = response.status_code
                where = f"{method.upper()} {address} ({model._meta.label})"
                if status not in (200, 302, 403, 404):
                    failures.append(f"{where}: {status}")
                elif takes_object and status == 200:
                    failures.append(f"{where}: 200 for another organization's object")
                elif status == 302 and response["Location"] not in (
                    reverse("admin:index"),  # "... does not exist"
                    address,  # an action without a selection (theirs is not in the list)
                ):
                    failures.append(f"{where}: redirected to {response['Location']}")
                elif not shows_no_other_organization(response):
                    failures.append(f"{where}: shows the other organization's data")
                elif model in PLATFORM_MODELS and status not in (302, 403):
                    failures.append(f"{where}: {status} (platform data: superusers only)")
        if not model._default_manager.filter(pk=obj._meta.pk.value_from_object(obj)).exists():
            failures.append(f"{model._meta.label}: the other organization's object was deleted")
    assert not failures, "\n".join(failures)


def test_the_sites_own_pages_show_only_the_users_organization(staff, ours, theirs):
    """Every page of the site's own (the dashboard, and any registered later), asked plainly,
    for the other organization by id, or with nonsense: the user's organization's figures,
    never the other's, never a 500."""
    assert "dashboard" in SITE_PAGES
    index = staff.get(reverse("admin:index"), secure=True).content.decode()
    failures = []
    for name in SITE_PAGES:
        address = reverse(f"admin:{name}")
        if f'href="{address}"' not in index:
            failures.append(f"{address}: not linked from the index")
        for query in ({}, {"organization": theirs.pk}, {"organization": "abc"},
                      {"organization_id": theirs.pk, "q": MARKER}):  # fmt: skip
            for method in ("get", "post"):
                # A page that acts on a POST (the replenishment's drafts) redirects back to
                # itself: what it then shows is checked as any GET.
                response = getattr(staff, method)(address, query, secure=True,
                                                  follow=method == "post")  # fmt: skip
                where = f"{method.upper()} {address} {query}"
                if response.status_code not in (200, 405):
                    failures.append(f"{where}: {response.status_code}")
                elif not shows_no_other_organization(response):
                    failures.append(f"{where}: shows the other organization's data")
                elif method == "get" and "Corner" not in response.content.decode():
                    failures.append(f"{where}: does not show the user's own organization")
    assert not failures, "\n".join(failures)


def test_the_view_on_site_shortcut_tells_nothing(staff, theirs):
    from django.contrib.contenttypes.models import ContentType

    product = an_object(Product, theirs)
    kind = ContentType.objects.get_for_model(Product)
    mine = an_object(Product, staff.user.organization)
    for pk in (product.pk, mine.pk, 10**9):
        response = staff.get(reverse("admin:view_on_site", args=[kind.pk, pk]), secure=True)
        assert response.status_code == 404


# --- Changelists, searches and filters ---------------------------------------------------------


def test_changelists_list_only_the_users_organization(staff, ours, theirs):
    failures = []
    for model in TENANT_MODELS:
        label = model._meta.label
        view = f"{model._meta.app_label}.view_{model._meta.model_name}"
        response = staff.get(url(model), secure=True)
        if response.status_code == 403:
            if staff.user.has_perm(view):
                failures.append(f"{label}: 403 although the role may view it")
            continue
        if not staff.user.has_perm(view):
            failures.append(f"{label}: {response.status_code} although the role may not view it")
            continue
        changelist = response.context["cl"]
        if not changelist.result_list:
            failures.append(f"{label}: the organization's own rows are not listed")
        if any(not belongs_to(row, ours) for row in changelist.result_list):
            failures.append(f"{label}: lists another organization's rows")
        queries = [{"q": MARKER}, "?_facets=True"]
        lookup = organization_lookup(model)
        if lookup == "organization":
            queries.append({"organization__id__exact": theirs.pk})
        elif lookup != "pk":  # a model naming its organization by id (the audit trail)
            queries.append({f"{lookup}__exact": theirs.pk})
        for spec in changelist.filter_specs:
            queries += [choice["query_string"] for choice in spec.choices(changelist)]
        for query in queries:
            if isinstance(query, dict):
                filtered = staff.get(url(model), query, secure=True)
            else:
                filtered = staff.get(url(model) + query, secure=True)
            if filtered.status_code != 200:
                failures.append(f"{label} {query}: {filtered.status_code}")
                continue
            if query == {"q": MARKER}:  # the page repeats the search term: no row may match
                if filtered.context["cl"].result_list:
                    failures.append(f"{label}: a search finds another organization's rows")
            elif not shows_no_other_organization(filtered):
                failures.append(f"{label} {query}: shows the other organization's data")
            rows = filtered.context["cl"].result_list if "cl" in filtered.context else []
            if any(not belongs_to(row, ours) for row in rows):
                failures.append(f"{label} {query}: lists another organization's rows")
    assert not failures, "\n".join(failures)


def test_related_filters_offer_only_the_users_objects(staff, ours):
    """E.g. the products' category and supplier filters, the ledger's location filter."""
    response = staff.get(url(Product), secure=True)
    specs = {spec.title: spec for spec in response.context["cl"].filter_specs}
    categories = [label for _, label in specs["category"].lookup_choices]
    assert categories == ["Corner tools"]
    assert [label for _, label in specs["supplier"].lookup_choices] == ["Corner supplies"]
    from stock.models import StockMovement

    ledger = staff.get(url(StockMovement), secure=True).context["cl"]
    locations = {spec.title: spec for spec in ledger.filter_specs}["location"]
    assert sorted(label for _, label in locations.lookup_choices) == ["Corner yard", "Main"]
    assert "organization" not in {spec.title for spec in ledger.filter_specs}
    assert "organization" not in ledger.list_display


# --- Form choices and posted ids ---------------------------------------------------------------


def form_pages(client, model, organization):
    """The add page and the change page of one of the organization's objects, where the role
    reaches them."""
    obj = an_object(model, organization)
    for address in (url(model, "add"), url(model, "change", obj.pk)):
        response = client.get(address, secure=True)
        if response.status_code == 200:
            yield address, response, obj


def choice_fields(response):
    """(form, name, field) of every choice of a related object on the page (a line's own
    hidden id aside: see test_a_lines_id_names_one_of_its_parents_lines)."""
    forms_ = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms_ += [*inline.formset.forms, inline.formset.empty_form]
    for form in forms_:
        for name, field in form.fields.items():
            if hasattr(field, "queryset") and name != form._meta.model._meta.pk.name:
                yield form, name, field


def test_a_lines_id_names_one_of_its_parents_lines(staff, ours):
    from sales.models import SalesOrder

    order = an_object(SalesOrder, ours)
    page = staff.get(url(SalesOrder, "change", order.pk), secure=True)
    formset = page.context["inline_admin_formsets"][0].formset
    for form in [*formset.forms, formset.empty_form]:
        assert set(form.fields["id"].queryset) == set(order.items.all())


def test_every_form_choice_is_the_users_organizations(staff, ours):
    failures = []
    for model in TENANT_MODELS:
        for address, response, _ in form_pages(staff, model, ours):
            if not shows_no_other_organization(response):
                failures.append(f"{address}: shows the other organization's data")
            for form, name, field in choice_fields(response):
                queryset = field.queryset
                foreign = queryset.exclude(organization_condition(queryset.model, ours.pk))
                if foreign.exists():
                    failures.append(f"{address} {form.add_prefix(name)}: offers {list(foreign)}")
    assert not failures, "\n".join(failures)


def test_another_organizations_ids_posted_in_a_form_are_refused(staff, ours, theirs):
    """Every choice of a related object, in every add and change form (lines included), posted
    with the other organization's id: a form error, no data of theirs shown, nothing saved."""
    failures, tried = [], 0
    for model in TENANT_MODELS:
        for address, page, obj in form_pages(staff, model, ours):
            if not page.context.get("has_change_permission", True) and "change" in address:
                continue
            for form, name, field in choice_fields(page):
                if form.prefix and (not form.instance.pk or "__prefix__" in form.prefix):
                    continue  # the inline's empty template row
                foreign = field.queryset.model
                if foreign not in TENANT_MODELS and foreign is not Organization:
                    continue
                other = an_object(foreign, theirs)
                key = form.add_prefix(name)
                value = (
                    [other.pk] if isinstance(field, forms.ModelMultipleChoiceField) else other.pk
                )
                before = model._default_manager.count()
                target = form.instance if form.instance.pk else obj
                state = model_state(target)
                response = staff.post(address, posted(page, **{key: value}), secure=True)
                tried += 1
                where = f"{address} {key}"
                if response.status_code != 200:
                    failures.append(f"{where}: {response.status_code}, not the form again")
                    continue
                if not form_has_error(response, form, name):
                    failures.append(f"{where}: no error on the field")
                if not shows_no_other_organization(response):
                    failures.append(f"{where}: shows the other organization's data")
                if model._default_manager.count() != before or model_state(target) != state:
                    failures.append(f"{where}: saved")
    assert tried, "no form offered a related object"
    assert not failures, "\n".join(failures)


def model_state(obj):
    fresh = type(obj)._default_manager.filter(pk=obj.pk).values().first() if obj.pk else None
    if fresh is not None:
        fresh.pop("updated_at", None)
    return fresh


def form_has_error(response, form, name) -> bool:
    main = response.context["adminform"].form
    if form.prefix is None or form.prefix == main.prefix:
        return name in main.errors
    for inline in response.context["inline_admin_formsets"]:
        for posted_form in inline.formset.forms:
            if posted_form.prefix == form.prefix:
                return name in posted_form.errors
    return False


def test_a_line_for_another_organizations_product_is_refused_without_naming_it(staff, ours, theirs):
    """The raw-id field of an order line shows no name for another organization's id."""
    from sales.models import SalesOrder

    order = an_object(SalesOrder, ours)
    rival = Product.objects.get(sku="QUOKKA-NAILS")
    page = staff.get(url(SalesOrder, "change", order.pk), secure=True)
    data = posted(page, **{"items-0-product": rival.pk})

    response = staff.post(url(SalesOrder, "change", order.pk), data, secure=True)

    assert response.status_code == 200
    assert "product" in response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert "QUOKKA" not in response.content.decode()
    assert order.items.get().product.sku == "CORNER-NAILS"


def test_an_added_object_belongs_to_the_users_organization(staff, ours):
    page = staff.get(url(Product, "add"), secure=True)
    assert "organization" not in page.context["adminform"].form.fields
    data = posted(page, sku="SAW", name="Saw", price="9.00")
    data["organization"] = an_object(Organization, ours).pk + 1000  # ignored: not a field

    response = staff.post(url(Product, "add"), data, secure=True)

    assert response.status_code == 302
    assert Product.objects.get(sku="SAW").organization_id == ours.pk


def test_a_location_added_by_the_staff_is_their_organizations(staff, ours):
    from stock.models import Location

    page = staff.get(url(Location, "add"), secure=True)
    response = staff.post(url(Location, "add"), posted(page, name="Cellar"), secure=True)
    assert response.status_code == 302
    assert Location.objects.get(name="Cellar").organization_id == ours.pk
    again = staff.post(url(Location, "add"), posted(page, name="cellar"), secure=True)
    assert again.status_code == 200  # unique per organization, whatever the case: a form error


def test_a_duplicate_sku_on_add_is_a_form_error(staff, ours, theirs):
    """The organization is not in the form, yet "SKU unique per organization" is checked."""
    page = staff.get(url(Product, "add"), secure=True)
    response = staff.post(
        url(Product, "add"), posted(page, sku="corner-nails", name="x", price="1"), secure=True
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    same_as_theirs = staff.post(
        url(Product, "add"), posted(page, sku="QUOKKA-NAILS", name="x", price="1"), secure=True
    )
    assert same_as_theirs.status_code == 302  # another organization's SKU is no clash


# --- Autocomplete --------------------------------------------------------------------------------


def test_autocomplete_answers_only_with_the_users_objects(staff, ours):
    failures, asked = [], 0
    for model in REGISTERED:
        for field in model._meta.get_fields():
            if (
                not (field.is_relation and field.concrete)
                or field.related_model not in site._registry
            ):
                continue
            target = site._registry[field.related_model]
            if not target.search_fields:
                continue
            for term in ("", MARKER):
                response = staff.get(
                    reverse("admin:autocomplete"),
                    {"app_label": model._meta.app_label, "model_name": model._meta.model_name,
                     "field_name": field.name, "term": term},
                    secure=True,
                )  # fmt: skip
                asked += 1
                where = f"{model._meta.label}.{field.name} {term!r}"
                if response.status_code == 403:
                    continue
                if response.status_code != 200:
                    failures.append(f"{where}: {response.status_code}")
                    continue
                ids = [row["id"] for row in response.json()["results"]]
                rows = field.related_model._default_manager.filter(pk__in=ids)
                if field.related_model not in TENANT_MODELS and ids:
                    failures.append(f"{where}: answers platform rows {ids}")
                elif rows.exclude(organization_condition(field.related_model, ours.pk)).exists():
                    failures.append(f"{where}: answers another organization's rows")
                if not shows_no_other_organization(response):
                    failures.append(f"{where}: names the other organization's data")
    assert asked
    assert not failures, "\n".join(failures)


def test_autocomplete_finds_the_users_own_products(staff):
    response = staff.get(
        reverse("admin:autocomplete"),
        {"app_label": "stock", "model_name": "stockmovement", "field_name": "product",
         "term": "nails"},
        secure=True,
    )  # fmt: skip
    assert [row["text"] for row in response.json()["results"]] == ["CORNER-NAILS Corner nails"]


# --- Roles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", PLATFORM_MODELS, ids=lambda m: m._meta.label)
def test_platform_data_is_for_superusers_only(staff, ours, model):
    obj = an_object(model, ours)
    assert staff.get(url(model), secure=True).status_code == 403
    assert staff.get(url(model, "change", obj.pk), secure=True).status_code == 403
    assert (
        model._meta.verbose_name_plural.lower()
        not in staff.get(reverse("admin:index"), secure=True).content.decode().lower()
    )


def test_a_manager_cannot_reach_the_users_admin(client, ours):
    from users.models import User

    client.force_login(User.objects.get(username="mike"))
    alice = User.objects.get(username="alice")
    for address in (
        url(User, "changelist"),
        url(User, "add"),
        url(User, "change", alice.pk),
        url(User, "delete", alice.pk),
        reverse("admin:auth_user_password_change", args=[alice.pk]),
    ):
        assert client.get(address, secure=True).status_code == 403, address
    index = client.get(reverse("admin:index"), secure=True).content.decode()
    assert url(User, "changelist") not in index


def test_a_manager_cannot_archive_products(client, ours):
    """Deleting (archiving) products is the admin's (API.md): the action is not offered, and
    posting it anyway does nothing."""
    from users.models import User

    client.force_login(User.objects.get(username="mike"))
    hammer = Product.objects.get(sku="CORNER-HAMMER")
    page = client.get(url(Product), secure=True)
    assert "delete_or_archive" not in page.content.decode()
    client.post(url(Product), {"action": "delete_or_archive", "_selected_action": [hammer.pk]},
                secure=True)  # fmt: skip
    hammer.refresh_from_db()
    assert not hammer.is_archived


def test_an_org_admin_archives_through_the_catalogues_rule(client, ours):
    from users.models import User

    client.force_login(User.objects.get(username="alice"))
    yoghurt = Product.objects.get(sku="CORNER-YOG")
    response = client.post(
        url(Product), {"action": "delete_or_archive", "_selected_action": [yoghurt.pk]},
        secure=True, follow=True,
    )  # fmt: skip
    assert "CORNER-YOG still holds 3" in response.content.decode()
    yoghurt.refresh_from_db()
    assert not yoghurt.is_archived


def test_a_superuser_still_sees_every_organization(client, ours, theirs):
    client.force_login(UserFactory(username="root", organization=None, is_staff=True,
                                   is_superuser=True))  # fmt: skip
    response = client.get(url(Product), secure=True)
    organizations = {row.organization_id for row in response.context["cl"].result_list}
    assert organizations == {ours.pk, theirs.pk}
    rival = Product.objects.get(sku="QUOKKA-NAILS")
    page = client.get(url(Product, "change", rival.pk), secure=True)
    assert page.status_code == 200 and "Quokka nails" in page.content.decode()
    assert (
        "organization"
        in client.get(url(Product, "add"), secure=True).context["adminform"].form.fields
    )
    group = Group.objects.get(name="admin")
    assert client.get(url(Group, "change", group.pk), secure=True).status_code == 200


@pytest.mark.parametrize("value", ["abc", "1.5", "99999999999999999999999", "-1"])
def test_nonsense_in_a_related_field_is_a_form_error_never_a_500(staff, ours, value):
    """Django's autocomplete and raw-id widgets look a posted value up to show its name; one
    that is no id at all is refused by the field, and the page is shown again."""
    from sales.models import SalesOrder

    product = an_object(Product, ours)
    page = staff.get(url(Product, "change", product.pk), secure=True)
    response = staff.post(url(Product, "change", product.pk), posted(page, category=value),
                          secure=True)  # fmt: skip
    assert response.status_code == 200
    assert "category" in response.context["adminform"].form.errors

    order = an_object(SalesOrder, ours)
    page = staff.get(url(SalesOrder, "change", order.pk), secure=True)
    response = staff.post(url(SalesOrder, "change", order.pk),
                          posted(page, **{"items-0-product": value}), secure=True)  # fmt: skip
    assert response.status_code == 200


def test_nonsense_in_a_superusers_form_is_a_form_error_too(client, ours):
    client.force_login(UserFactory(username="root", organization=None, is_staff=True,
                                   is_superuser=True))  # fmt: skip
    product = an_object(Product, ours)
    page = client.get(url(Product, "change", product.pk), secure=True)
    for value in ("abc", "99999999999999999999999"):
        response = client.post(url(Product, "change", product.pk), posted(page, category=value),
                               secure=True)  # fmt: skip
        assert response.status_code == 200
        assert "category" in response.context["adminform"].form.errors
