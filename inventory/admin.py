import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import ExpressionWrapper, F
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import (
    AuditTrailMixin,
    CostFiguresMixin,
    OrganizationAdminForm,
    OrganizationAdminMixin,
    OrganizationInlineFormSet,
    OrganizationInlineMixin,
    SavedByServicesMixin,
    admin_today,
    sees_every_organization,
)
from core.currencies import with_currency
from core.errors import Conflict
from core.fields import MONEY_TOTAL
from inventory import services
from inventory.models import LOW_STOCK, OUT_OF_STOCK, Category, Product
from inventory.selectors import expired_condition
from inventory.services import ProductChanges, ProductFields
from stock import selectors as stock_selectors
from stock import services as stock_services
from stock.admin import stock_change_links
from suppliers.admin import ProductSupplierProductInline, save_supplier_products
from suppliers.models import SupplierProduct

RECENT_MOVEMENTS = 20  # on a product's page; the rest in the ledger, filtered by the product


@admin.register(Category)
class CategoryAdmin(SavedByServicesMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """Categories through the catalogue's services, as in the API: names unique whatever their
    case, one with live products kept, the dashboard's and alerts' figures moved on."""

    list_display = ["name", "organization", "created_at", "updated_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "description", "organization__name"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at", "updated_at"]
    service_fields = ("name", "description")

    def service_create(self, organization, **fields):
        return services.create_category(organization=organization, **fields)

    def service_update(self, category, **fields):
        return services.update_category(category=category, **fields)

    def service_delete(self, category):
        services.delete_category(category=category)


class ProductAdminForm(OrganizationAdminForm):
    """Category and supplier must belong to the product's organization (OrganizationAdminForm).
    A new product's SKU may be left empty: the catalogue generates one, as in the API."""

    sku = forms.CharField(max_length=64, required=False, help_text="Empty: generated.")

    class Meta:
        model = Product
        fields = [
            "organization",
            "sku",
            "barcode",
            "name",
            "description",
            "category",
            "supplier",
            "price",
            "cost_price",
            "low_stock_threshold",
            "track_lots",
            "expiration_date",
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("track_lots") and cleaned.get("expiration_date"):
            self.add_error("expiration_date", "A lot-tracked product's expiry is its lots'.")
        return cleaned


class VariationFormSet(OrganizationInlineFormSet):
    """No two live variations of a product have the same attributes."""

    def clean(self):
        super().clean()
        kept = [
            (form, json.dumps(form.cleaned_data.get("attributes"), sort_keys=True))
            for form in self.forms
            if hasattr(form, "cleaned_data") and "attributes" in form.cleaned_data
        ]
        for form in self.changed_forms():
            key = json.dumps(form.cleaned_data.get("attributes"), sort_keys=True)
            if "attributes" in form.cleaned_data and any(
                other is not form and other_key == key for other, other_key in kept
            ):
                form.add_error("attributes", "Another variation has these attributes.")


class VariationInline(OrganizationInlineMixin, admin.TabularInline):
    """A product's variations; their stock changes only through the ledger."""

    model = Product
    formset = VariationFormSet
    fk_name = "parent"
    fields = ["sku", "name", "attributes", "price", "quantity", "low_stock_threshold"]
    readonly_fields = ["sku", "quantity"]
    extra = 0
    show_change_link = True
    verbose_name = "variation"
    verbose_name_plural = "variations"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_archived=False)

    def has_add_permission(self, request, obj=None):
        return False  # adding a variation checks the parent's stock: use the API

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(
    description="Delete selected products (archive those with stock history)",
    permissions=["archive"],
)
def delete_or_archive(modeladmin, request, queryset):
    """Through the catalogue's rule: a product still holding stock is kept, and named."""
    done, kept = 0, []
    for product in queryset.filter(is_archived=False).order_by("pk"):
        try:
            stock_services.delete_product_with_stock(product=product)
        except Conflict as refusal:
            kept.append(str(refusal.message))
            continue
        done += 1
    modeladmin.message_user(request, f"{done} product(s) deleted or archived.", messages.SUCCESS)
    for message in kept:
        modeladmin.message_user(request, message, messages.WARNING)


class ArchivedFilter(admin.SimpleListFilter):
    """Archived products are hidden unless asked for (as in the API's lists)."""

    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("yes", "Archived"), ("all", "All")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(is_archived=True)
        if self.value() == "all":
            return queryset
        return queryset.filter(is_archived=False)

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Live",
        }
        for value, title in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": title,
            }


class StockLevelFilter(admin.SimpleListFilter):
    """Low stock (available at or below the threshold) and out of stock, as the API says."""

    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [("low", "Low stock"), ("out", "Out of stock"), ("ok", "Above the threshold")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(LOW_STOCK)
        if self.value() == "out":
            return queryset.filter(OUT_OF_STOCK)
        if self.value() == "ok":
            return queryset.filter(has_variations=False).exclude(LOW_STOCK)
        return queryset


class ExpiryFilter(admin.SimpleListFilter):
    """Expired stock, and stock expiring within ALERT_EXPIRY_DAYS (not expired yet), as of the
    organization's today (`admin_today`)."""

    title = "expiry"
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        days = settings.ALERT_EXPIRY_DAYS
        return [("expired", "Expired"), ("soon", f"Expiring within {days} days")]

    def queryset(self, request, queryset):
        # A superuser's list holds every organization (whichever one they belong to).
        organization_id = organization_listed(request)
        if self.value() == "expired":
            return queryset.filter(expired_condition(admin_today(request)))
        if self.value() == "soon":
            return queryset.filter(
                stock_selectors.expiring_within(
                    settings.ALERT_EXPIRY_DAYS,
                    organization_id=organization_id,
                    today=admin_today(request),
                )
            )
        return queryset


def organization_listed(request) -> int | None:
    """The organization whose products a changelist holds: the user's, or None for a superuser
    (every organization's)."""
    return None if sees_every_organization(request) else request.user.organization_id


@admin.register(Product)
class ProductAdmin(AuditTrailMixin, CostFiguresMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """What a shop reads: SKU, name, what is available and what it is worth (at price, and at
    its moving-average cost for who may see costs); low-stock and expiry filters; archived
    products hidden unless asked for. A product's page shows its value, its stock per location
    and lot and its last movements; stock changes by recording a movement or a transfer (links
    at the top), never by editing a quantity."""

    form = ProductAdminForm
    audit_object_type = "product"
    list_display = [
        "sku",
        "name",
        "category",
        "selling_price",
        "available",
        "stock_value",
        "unit_cost",
        "cost_value",
        "low_stock_threshold",
        "expiration_date",
        "organization",
    ]
    list_display_links = ["sku", "name"]
    list_filter = [
        ArchivedFilter,
        StockLevelFilter,
        ExpiryFilter,
        "category",
        "supplier",
        "has_variations",
        "organization",
    ]
    list_select_related = ["organization", "category"]
    search_fields = ["sku", "barcode", "name", "description"]
    autocomplete_fields = ["organization", "category", "supplier"]
    readonly_fields = [
        "parent",
        "attributes",
        "quantity",
        "has_variations",
        "is_archived",
        "created_at",
        "updated_at",
        "stock_value",
        "unit_cost",
        "cost_value",
        "stock_by_location",
        "recent_movements",
    ]
    stock_fields = [
        "stock_value", "unit_cost", "cost_value", "stock_by_location", "recent_movements",
    ]  # fmt: skip
    cost_fields = ("cost_price", "unit_cost", "cost_value")
    inlines = [VariationInline, ProductSupplierProductInline]
    actions = [delete_or_archive]
    show_full_result_count = False  # no COUNT(*) over a million products per page
    change_list_template = "admin/inventory/product/change_list.html"  # "Import products"

    def get_queryset(self, request):
        products = super().get_queryset(request).select_related("organization")
        return stock_selectors.with_stock_figures(products, today=admin_today(request)).annotate(
            cost_value=ExpressionWrapper(F("quantity") * F("average_cost"), MONEY_TOTAL)
        )

    @admin.display(description="available", ordering="available")
    def available(self, product):
        return product.available

    # Amounts carry the organization's currency (`12.50 EUR`).

    @admin.display(description="price", ordering="price")
    def selling_price(self, product):
        return with_currency(product.price, product.organization.currency)

    @admin.display(description="stock value", ordering="stock_value")
    def stock_value(self, product):
        """On hand at the selling price (`quantity * price`)."""
        return with_currency(product.stock_value, product.organization.currency)

    @admin.display(description="average cost", ordering="average_cost")
    def unit_cost(self, product):
        """The moving-average cost of one unit (4 places)."""
        return f"{product.average_cost:.4f} {product.organization.currency}"

    @admin.display(description="value at cost", ordering="cost_value")
    def cost_value(self, product):
        """On hand at the moving-average cost (`quantity * average_cost`), as the dashboard
        values stock at cost."""
        return with_currency(product.cost_value, product.organization.currency)

    def get_form(self, request, obj=None, change=False, **kwargs):
        """The prices typed in are in the organization's currency: their labels say which."""
        form = super().get_form(request, obj, change=change, **kwargs)
        organization = obj.organization if obj is not None else request.user.organization
        if organization is not None:
            for name in ("price", "cost_price"):
                if name in form.base_fields:
                    field = form.base_fields[name]
                    field.label = f"{field.label} ({organization.currency})"
        return form

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (
                name,
                {**options, "fields": [f for f in options["fields"] if f not in self.stock_fields]},
            )
            for name, options in super().get_fieldsets(request, obj)
        ]
        if obj is not None:
            fieldsets.append(("Stock", {"fields": self._without_costs(request, self.stock_fields)}))
        return fieldsets

    @admin.display(description="where")
    def stock_by_location(self, product):
        """What each location holds, lot by lot, and what of it confirmed orders reserve."""
        if product.has_variations:
            return "Kept by its variations."
        levels = stock_selectors.held_levels().filter(product=product)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    level.location.name,
                    level.lot.code if level.lot else "-",
                    (level.lot.expiration_date if level.lot else product.expiration_date) or "-",
                    level.quantity,
                    level.allocated,
                    level.available,
                )
                for level in levels
            ),
        )
        if not rows:
            return "No stock."
        return format_html(
            '<table class="stock-levels"><thead><tr><th>location</th><th>lot</th>'
            "<th>expires</th><th>on hand</th><th>reserved</th><th>available</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description=f"last {RECENT_MOVEMENTS} movements")
    def recent_movements(self, product):
        """The newest movements of the product, with a link to all of them in the ledger."""
        ledger = reverse("admin:stock_stockmovement_changelist") + f"?product={product.pk}"
        movements = (
            stock_selectors.movements_with_details()
            .filter(product=product)
            .order_by("-created_at", "-id")[:RECENT_MOVEMENTS]
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(m.created_at).strftime("%Y-%m-%d %H:%M"),
                    m.movement_type,
                    m.location.name,
                    f"{m.delta:+d}",
                    m.balance_after,
                    m.reference or m.get_source_display(),
                    m.performed_by.username if m.performed_by else "-",
                )
                for m in movements
            ),
        )
        if not rows:
            return "No movements yet."
        return format_html(
            '<table class="recent-movements"><thead><tr><th>when</th><th>type</th>'
            "<th>location</th><th>change</th><th>balance</th><th>reference</th><th>by</th>"
            '</tr></thead><tbody>{}</tbody></table><p><a href="{}">All movements of this '
            "product in the ledger</a></p>",
            rows,
            ledger,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            **stock_change_links(request, product_id=object_id),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.parent_id is not None:
            fields = [*fields, "category", "supplier"]  # a variation's are its parent's
        if obj is not None:  # switched through the API, which checks the stock it holds
            fields = [*fields, "track_lots"]
        if obj is not None and obj.track_lots:
            fields = [*fields, "expiration_date"]  # its lots' (corrected on the lot)
        return fields

    def has_delete_permission(self, request, obj=None):
        return False  # products with history are archived: use the action or the API

    def has_archive_permission(self, request):
        return request.user.has_perm("inventory.delete_product")  # admins only, as the API

    def save_model(self, request, obj, form, change):
        """Through stock's service for catalogue changes, as the API: a new product is created
        by it (a generated SKU, no stock, its average cost starting at its cost price); an edit
        writes only the edited columns (`quantity` belongs to the ledger), a parent's category
        and supplier pass to its variations, and a threshold edit that makes it low is a
        crossing the ledger records."""
        if not change:
            changed = [name for name in form.changed_data if name != "organization"]
            fields = {name: form.cleaned_data[name] for name in changed}
            fields["sku"] = fields.get("sku") or None
            created = stock_services.create_product_with_stock(
                organization=obj.organization, fields=ProductFields(**fields), user=request.user
            )
            for field in Product._meta.concrete_fields:
                setattr(obj, field.attname, getattr(created, field.attname))
            obj._state.adding = False
        elif form.changed_data:
            changes = {field: getattr(obj, field) for field in form.changed_data}
            stock_services.update_product_with_stock(
                product=obj, changes=ProductChanges(**changes), user=request.user
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is SupplierProduct:
            save_supplier_products(formset, organization=form.instance.organization)
            return
        formset.save(commit=False)  # no adds, no deletes: only edits of existing variations
        for variation, changed in formset.changed_objects:
            changes = {field: getattr(variation, field) for field in changed}
            stock_services.update_variation_with_stock(
                variation=variation, changes=ProductChanges(**changes), user=request.user
            )
