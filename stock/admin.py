import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator

from core.admin import (
    CostFiguresMixin,
    OrganizationAdminForm,
    OrganizationAdminMixin,
    ReadOnlyAdminMixin,
    SafeAutocompleteSelect,
    SavedByServicesMixin,
    add_refusal_to_form,
    refusal_messages,
    scope_to_user,
    sees_every_organization,
)
from core.errors import BrokenRule, Conflict, DomainError
from core.fields import COST_DIGITS, COST_PLACES, MAX_QUANTITY
from core.tenancy import sees_costs
from inventory.models import Product
from stock import services
from stock.models import Location, Lot, MovementLot, StockLevel, StockMovement, Transfer


class MovementLotInline(ReadOnlyAdminMixin, admin.TabularInline):
    """How a movement's delta falls on lots."""

    model = MovementLot
    fields = ["lot", "lot_expiration_date", "delta"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="expires")
    def lot_expiration_date(self, line):
        return line.lot.expiration_date

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lot")


class LocationChoiceField(forms.ModelChoiceField):
    """A location; a superuser, who sees every organization's, reads whose it is."""

    def __init__(self, *args, every_organization: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.every_organization = every_organization

    def label_from_instance(self, location):
        if self.every_organization:
            return f"{location.name} ({location.organization})"
        return location.name


def stock_change_links(request, *, product_id=None) -> dict:
    """The links to record a movement and a transfer (of one product) that the role allows."""
    query = f"?{urlencode({'product': product_id})}" if product_id is not None else ""
    links = {}
    if request.user.has_perm("stock.add_stockmovement"):
        links["record_movement_url"] = reverse("admin:stock_stockmovement_record") + query
    if request.user.has_perm("stock.add_transfer"):
        links["transfer_url"] = reverse("admin:stock_stockmovement_transfer") + query
    return links


class StockChangeForm(forms.Form):
    """What the admin asks before calling a stock service (the service checks the rest): a
    product and locations of the user's organization (a superuser's: any)."""

    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY)
    lot_code = forms.CharField(max_length=64, required=False)
    note = forms.CharField(max_length=10_000, required=False, widget=forms.Textarea({"rows": 2}))

    location_fields: dict[str, dict] = {}  # name -> options of a location field
    field_order: list[str] = []

    def __init__(self, *args, request, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"] = forms.ModelChoiceField(
            queryset=scope_to_user(Product.objects.all(), request),
            widget=SafeAutocompleteSelect(StockMovement._meta.get_field("product"), admin_site),
        )
        every = sees_every_organization(request)
        locations = scope_to_user(Location.objects.filter(is_archived=False), request)
        for name, options in self.location_fields.items():
            self.fields[name] = LocationChoiceField(
                queryset=locations.select_related("organization"),
                every_organization=every,
                **options,
            )
        self.order_fields(self.field_order)


class MovementForm(StockChangeForm):
    movement_type = forms.ChoiceField(choices=StockMovement.MovementType.choices)
    expiration_date = forms.DateField(
        required=False, widget=AdminDateWidget, help_text="The expiry of the lot an IN creates."
    )
    unit_cost = forms.DecimalField(
        max_digits=COST_DIGITS,
        decimal_places=COST_PLACES,
        min_value=0,
        required=False,
        help_text="IN only, optional: what each unit cost (it moves the average cost). Empty: "
        "the product's average cost.",
    )
    location_fields = {"location": {"required": False, "empty_label": "The default location"}}
    field_order = [
        "product", "movement_type", "location", "quantity", "unit_cost", "lot_code",
        "expiration_date", "note",
    ]  # fmt: skip

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if not sees_costs(request.user):
            del self.fields["unit_cost"]
        self.fields[
            "quantity"
        ].help_text = "IN and OUT: the units moved. ADJUST: the units counted there (of that lot)."
        self.fields[
            "lot_code"
        ].help_text = (
            "A lot-tracked product's IN and ADJUST need one; an OUT without one goes FEFO."
        )


class TransferForm(StockChangeForm):
    location_fields = {"from_location": {}, "to_location": {}}
    field_order = ["product", "from_location", "to_location", "quantity", "lot_code", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"] = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY)
        self.order_fields(self.field_order)
        self.fields["lot_code"].help_text = "Empty: the lots go FEFO."


@admin.register(StockMovement)
class StockMovementAdmin(
    CostFiguresMixin, ReadOnlyAdminMixin, OrganizationAdminMixin, admin.ModelAdmin
):
    """The ledger is read-only in the admin too: no add, change or delete (nor bulk delete).
    Stock changes through `stock.services` only: "Record a movement" (an IN at an optional unit
    cost) and "Transfer" ask what the API asks and call `record_movement` and
    `transfer_stock`; their refusals are form errors and messages. The list fits a 1400 px
    window: short columns (the type and the signed change in one), notes truncated; the unit
    cost for who may see costs."""

    list_display = [
        "when",
        "sku",
        "location",
        "change",
        "balance_after",
        "unit_cost",
        "reference_or_source",
        "performed_by",
        "short_note",
        "organization",
    ]
    list_filter = ["movement_type", "source", "location", "created_at", "organization"]
    list_select_related = ["organization", "product", "location", "performed_by"]
    search_fields = ["product__sku", "product__name", "reference", "note", "location__name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [MovementLotInline]
    cost_fields = ("unit_cost",)
    change_list_template = "admin/stock/stockmovement/change_list.html"

    @admin.display(description="when", ordering="created_at")
    def when(self, movement):
        return timezone.localtime(movement.created_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="SKU", ordering="product__sku")
    def sku(self, movement):
        return format_html(
            '<span title="{}">{}</span>', movement.product.name, movement.product.sku
        )

    @admin.display(description="change", ordering="delta")
    def change(self, movement):
        """The kind of movement and what it changed: `IN +7`, `OUT -3`, `ADJUST -1`."""
        return f"{movement.movement_type} {movement.delta:+d}"

    @admin.display(description="reference", ordering="reference")
    def reference_or_source(self, movement):
        return movement.reference or movement.get_source_display()

    @admin.display(description="note")
    def short_note(self, movement):
        return Truncator(movement.note).chars(NOTE_CHARS)

    def get_urls(self):
        own = [
            path(
                "record/",
                self.admin_site.admin_view(self.record_movement_view),
                name="stock_stockmovement_record",
            ),
            path(
                "transfer/",
                self.admin_site.admin_view(self.transfer_view),
                name="stock_stockmovement_transfer",
            ),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), **stock_change_links(request)}
        return super().changelist_view(request, extra_context)

    def record_movement_view(self, request):
        """Record one movement through `stock.services.record_movement`."""
        return self._stock_change_view(
            request,
            permission="stock.add_stockmovement",
            form_class=MovementForm,
            title="Record a stock movement",
            change=self._record_movement,
        )

    def transfer_view(self, request):
        """Move stock between two locations through `stock.services.transfer_stock`."""
        return self._stock_change_view(
            request,
            permission="stock.add_transfer",
            form_class=TransferForm,
            title="Transfer stock between locations",
            change=self._transfer,
        )

    def _record_movement(self, request, data) -> str:
        movement = services.record_movement(
            product=data["product"],
            movement_type=data["movement_type"],
            quantity=data["quantity"],
            user=request.user,
            location=data["location"],
            lot_code=data["lot_code"] or None,
            expiration_date=data["expiration_date"],
            unit_cost=data.get("unit_cost"),
            note=data["note"],
        )
        return (
            f"{movement.movement_type} {movement.delta:+d} of {data['product'].sku} at "
            f"{movement.location.name} recorded: {movement.balance_after} on hand in all."
        )

    def _transfer(self, request, data) -> str:
        transfer = services.transfer_stock(
            product=data["product"],
            from_location=data["from_location"],
            to_location=data["to_location"],
            quantity=data["quantity"],
            user=request.user,
            lot_code=data["lot_code"] or None,
            note=data["note"],
        )
        return (
            f"{transfer.reference}: {transfer.quantity} of {data['product'].sku} moved from "
            f"{transfer.from_location.name} to {transfer.to_location.name}."
        )

    def _stock_change_view(self, request, *, permission, form_class, title, change):
        if not request.user.has_perm(permission):
            raise PermissionDenied
        product_id = request.GET.get("product", "")
        initial = {"product": product_id} if re.fullmatch(r"[0-9]{1,18}", product_id) else None
        form = form_class(
            request.POST if request.method == "POST" else None,
            initial=initial,
            request=request,
            admin_site=self.admin_site,
        )
        if request.method == "POST" and form.is_valid():
            try:
                done = change(request, form.cleaned_data)
            except DomainError as refusal:  # nothing changed: the service's transaction
                add_refusal_to_form(form, refusal)
                for line in refusal_messages(refusal):
                    self.message_user(request, line, messages.ERROR)
            else:
                self.message_user(request, done, messages.SUCCESS)
                ledger = reverse("admin:stock_stockmovement_changelist")
                return redirect(f"{ledger}?product={form.cleaned_data['product'].pk}")
        product = form["product"].value()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "opts": self.model._meta,
            "media": self.media + form.media,
            "list_url": reverse("admin:stock_stockmovement_changelist")
            + (f"?product={product}" if str(product or "").isdigit() else ""),
        }
        return TemplateResponse(request, "admin/stockroom/service_form.html", context)


NOTE_CHARS = 40  # the ledger list's note column


class LocationAdminForm(OrganizationAdminForm):
    class Meta:
        model = Location
        fields = ["organization", "name", "code", "address", "is_default"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.is_default and cleaned.get("is_default") is False:
            self.add_error("is_default", "Make another location the default instead.")
        return cleaned

    def _get_validation_exclusions(self):
        # "One default per organization" is kept by the service, which hands the default
        # over: the form must not refuse a second one.
        return {*super()._get_validation_exclusions(), "is_default"}


@admin.register(Location)
class LocationAdmin(SavedByServicesMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """Locations through stock's services, as in the API: one default per organization, and
    a location with stock or history is kept (archived) rather than deleted."""

    form = LocationAdminForm
    list_display = ["name", "code", "organization", "is_default", "is_archived", "updated_at"]
    list_filter = ["is_default", "is_archived", "organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "code", "address"]
    autocomplete_fields = ["organization"]
    fields = ["organization", "name", "code", "address", "is_default", "is_archived"]
    readonly_fields = ["is_archived", "created_at", "updated_at"]
    actions = ["archive_or_delete"]

    def has_delete_permission(self, request, obj=None):
        return False  # through the action: the service keeps what has history

    def has_archive_permission(self, request):
        return request.user.has_perm("stock.delete_location")

    service_fields = ("name", "code", "address", "is_default")

    def service_create(self, organization, **fields):
        return services.create_location(organization=organization, **fields)

    def service_update(self, location, **fields):
        return services.update_location(location=location, **fields)

    @admin.action(
        description="Delete selected locations (archive those with history)",
        permissions=["archive"],
    )
    def archive_or_delete(self, request, queryset):
        done = 0
        for location in queryset.filter(is_archived=False).order_by("pk"):
            try:
                with transaction.atomic():
                    services.delete_location(location=location)
            except (Conflict, BrokenRule) as refusal:
                self.message_user(request, str(refusal.message), messages.WARNING)
                continue
            done += 1
        self.message_user(request, f"{done} location(s) deleted or archived.", messages.SUCCESS)


@admin.register(Lot)
class LotAdmin(OrganizationAdminMixin, admin.ModelAdmin):
    """Lots are made by the stock they receive; only a wrong expiry is corrected here."""

    list_display = ["code", "product", "organization", "expiration_date", "quantity"]
    list_filter = ["expiration_date", "organization"]
    list_select_related = ["organization", "product"]
    search_fields = ["code", "product__sku", "product__name"]
    fields = ["organization", "product", "code", "expiration_date", "quantity", "created_at"]
    readonly_fields = ["product", "code", "quantity", "created_at"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "expiration_date" in form.changed_data:
            services.update_lot(lot=obj, expiration_date=form.cleaned_data["expiration_date"])


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """What is where: written only by the ledger."""

    list_display = ["product", "location", "lot", "quantity", "allocated", "organization"]
    list_filter = ["location", "organization"]
    list_select_related = ["organization", "product", "location", "lot"]
    search_fields = ["product__sku", "product__name", "location__name", "lot__code"]
    show_full_result_count = False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    list_display = [
        "reference", "product", "from_location", "to_location", "quantity", "performed_by",
        "created_at",
    ]  # fmt: skip
    list_filter = ["created_at", "organization"]
    list_select_related = ["product", "from_location", "to_location", "performed_by"]
    search_fields = ["product__sku", "product__name", "note"]
    date_hierarchy = "created_at"
    show_full_result_count = False
