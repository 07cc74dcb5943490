import json

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from core.admin import (
    OrganizationAdminForm,
    OrganizationAdminMixin,
    OrganizationInlineFormSet,
    OrganizationInlineMixin,
)
from core.errors import Conflict
from inventory import services
from inventory.models import Category, Product
from stock import services as stock_services
from stock.admin import stock_change_links


@admin.register(Category)
class CategoryAdmin(OrganizationAdminMixin, admin.ModelAdmin):
    list_display = ["name", "organization", "created_at", "updated_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "description", "organization__name"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at", "updated_at"]


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
            with transaction.atomic(), stock_services.low_stock_watch(products=[product]):
                services.delete_product(product=product)
        except Conflict as refusal:
            kept.append(str(refusal.message))
            continue
        done += 1
    modeladmin.message_user(request, f"{done} product(s) deleted or archived.", messages.SUCCESS)
    for message in kept:
        modeladmin.message_user(request, message, messages.WARNING)


@admin.register(Product)
class ProductAdmin(OrganizationAdminMixin, admin.ModelAdmin):
    form = ProductAdminForm
    list_display = [
        "sku",
        "name",
        "organization",
        "category",
        "supplier",
        "price",
        "quantity",
        "low_stock_threshold",
        "expiration_date",
        "has_variations",
        "is_archived",
    ]
    list_filter = [
        "is_archived",
        "has_variations",
        "expiration_date",
        "category",
        "supplier",
        "organization",
    ]
    list_select_related = ["organization", "category", "supplier"]
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
    ]
    inlines = [VariationInline]
    actions = [delete_or_archive]
    show_full_result_count = False  # no COUNT(*) over a million products per page

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
        """Through the catalogue's services, as the API: a new product is created by them (a
        generated SKU, no stock); an edit writes only the edited columns (`quantity` belongs
        to the ledger), a parent's category and supplier pass to its variations, and a
        threshold edit that makes it low is a crossing the ledger records."""
        if not change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            fields["organization"] = obj.organization
            fields["sku"] = fields.get("sku") or None
            created = services.create_product(**fields)
            for field in Product._meta.concrete_fields:
                setattr(obj, field.attname, getattr(created, field.attname))
            obj._state.adding = False
        elif form.changed_data:
            changes = {field: getattr(obj, field) for field in form.changed_data}
            with transaction.atomic(), stock_services.low_stock_watch(products=[obj]):
                services.update_product(product=obj, **changes)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)  # no adds, no deletes: only edits of existing variations
        for variation, changed in formset.changed_objects:
            changes = {field: getattr(variation, field) for field in changed}
            with transaction.atomic(), stock_services.low_stock_watch(products=[variation]):
                services.update_variation(variation=variation, **changes)
