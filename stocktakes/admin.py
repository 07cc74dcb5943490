"""The stocktake's admin page is a count sheet: the lines with an input for each counted
quantity (the expected column hidden from who may not see it while the count is blind), and
"Save counts", "Complete" and "Cancel" buttons that call stocktakes.services, as the API does;
the variance shown once completed. Opening one asks what the API asks."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from core.admin import OrganizationAdminMixin, refusal_messages, scope_to_user
from core.errors import BrokenRule, DomainError
from core.fields import MAX_QUANTITY
from core.tenancy import sees_costs
from inventory.models import Category
from stock.models import Location
from stocktakes import selectors, services
from stocktakes.models import Stocktake

LINES_PER_PAGE = 100
EXPECTED_PERMISSION = "stocktakes.view_expected"
COUNT_PERMISSION = "stocktakes.count_stocktake"


class OpenStocktakeForm(forms.ModelForm):
    """What opening a stocktake asks (create_stocktake checks the rest)."""

    location = forms.ModelChoiceField(queryset=Location.objects.none())
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(),
        required=False,
        empty_label="Every product",
        help_text="Only the products of this category get lines.",
    )
    blind = forms.BooleanField(
        required=False, help_text="Sales staff see no expected quantities until it is completed."
    )
    note = forms.CharField(max_length=10_000, required=False, widget=forms.Textarea({"rows": 2}))

    class Meta:
        model = Stocktake
        fields = ["location", "category", "blind", "note"]

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = scope_to_user(
            Location.objects.filter(is_archived=False), request
        ).select_related("organization")
        self.fields["category"].queryset = scope_to_user(Category.objects.all(), request)

    def _post_clean(self):
        pass  # the service builds and checks the stocktake, never this form

    def clean(self):
        cleaned = super().clean()
        location, category = cleaned.get("location"), cleaned.get("category")
        if location and category and category.organization_id != location.organization_id:
            self.add_error("category", "The category is another organization's.")
        return cleaned


class SheetForm(forms.ModelForm):
    """The count sheet edits no field of the stocktake itself (its inputs are the lines')."""

    class Meta:
        model = Stocktake
        fields = []


@admin.register(Stocktake)
class StocktakeAdmin(OrganizationAdminMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "location",
        "status",
        "blind",
        "created_by",
        "created_at",
        "completed_at",
        "organization",
    ]
    list_filter = ["status", "blind", "location", "organization"]
    list_select_related = ["organization", "location", "created_by"]
    search_fields = ["note", "location__name"]
    ordering = ["-created_at", "-id"]

    @admin.display(description="reference", ordering="number")
    def reference(self, stocktake):
        return stocktake.reference

    def has_delete_permission(self, request, obj=None):
        return False  # cancelled, never deleted: the ledger names its reference

    def add_view(self, request, form_url="", extra_context=None):
        """Open a stocktake through `create_stocktake`, then go to its count sheet."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OpenStocktakeForm(request.POST or None, request=request)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                stocktake = services.create_stocktake(
                    organization=data["location"].organization,
                    location=data["location"],
                    user=request.user,
                    note=data["note"],
                    blind=data["blind"],
                    category=data["category"],
                )
            except DomainError as refusal:
                for line in refusal_messages(refusal):
                    self.message_user(request, line, messages.ERROR)
            else:
                self.message_user(request, f"{stocktake.reference} opened.", messages.SUCCESS)
                return redirect(reverse("admin:stocktakes_stocktake_change", args=[stocktake.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Open a stocktake",
            "form": form,
            # the admin's usual names for its form, for what reads every admin page alike
            "adminform": helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {}),
            "inline_admin_formsets": [],
            "opts": self.model._meta,
            "media": self.media + form.media,
            "list_url": reverse("admin:stocktakes_stocktake_changelist"),
            "submit_label": "Open the stocktake",
        }
        return TemplateResponse(request, "admin/stockroom/service_form.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The count sheet: counts saved, the stocktake completed or cancelled through the
        services; a refusal is an error message and nothing changes."""
        stocktake = self.get_object(request, object_id)
        if stocktake is None or not self.has_view_permission(request, stocktake):
            raise Http404("No such stocktake.")
        user = request.user
        if request.method == "POST":
            done = self._act(request, stocktake)
            if done:
                self.message_user(request, done, messages.SUCCESS)
            return redirect(request.get_full_path())
        lines = selectors.lines_of(stocktake)
        page = Paginator(lines, LINES_PER_PAGE).get_page(request.GET.get("p"))
        current = selectors.stocktakes_with_figures().get(pk=stocktake.pk)
        hide_expected = stocktake.blind and not stocktake.is_completed
        hide_expected = hide_expected and not user.has_perm(EXPECTED_PERMISSION)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Stocktake {stocktake.reference}",
            "stocktake": current,
            "page": page,
            "show_expected": not hide_expected,
            "show_value": sees_costs(user) and not hide_expected,
            "may_count": stocktake.is_open and user.has_perm(COUNT_PERMISSION),
            "may_close": stocktake.is_open and self.has_change_permission(request, stocktake),
            "max_quantity": MAX_QUANTITY,
            "opts": self.model._meta,
            "original": stocktake,
            "adminform": helpers.AdminForm(SheetForm(instance=stocktake), [], {}),
            "inline_admin_formsets": [],
        }
        return TemplateResponse(request, "admin/stocktakes/stocktake/count_sheet.html", context)

    def _act(self, request, stocktake) -> str | None:
        user = request.user
        try:
            if "_complete" in request.POST:
                if not self.has_change_permission(request, stocktake):
                    raise PermissionDenied
                # counts typed on the sheet and not yet saved count too, in the same
                # transaction: a refused completion saves nothing
                counts = self._counts(request)
                if counts and not user.has_perm(COUNT_PERMISSION):
                    raise PermissionDenied
                with transaction.atomic():
                    if counts:
                        services.count_lines(stocktake=stocktake, counts=counts, user=user)
                    done = services.complete_stocktake(stocktake=stocktake, user=user)
                return (
                    f"{done.reference} completed: {done.variance_quantity:+d} unit(s) "
                    "posted to the stock."
                )
            if "_cancel" in request.POST:
                if not self.has_change_permission(request, stocktake):
                    raise PermissionDenied
                done = services.cancel_stocktake(stocktake=stocktake, user=user)
                return f"{done.reference} cancelled: nothing moved."
            if not user.has_perm(COUNT_PERMISSION):
                raise PermissionDenied
            counts = self._counts(request)
            if not counts:
                self.message_user(request, "No count entered.", messages.WARNING)
                return None
            services.count_lines(stocktake=stocktake, counts=counts, user=user)
            return f"{len(counts)} line(s) counted."
        except DomainError as refusal:  # nothing changed: the service's transaction
            for line in refusal_messages(refusal):
                self.message_user(request, line, messages.ERROR)
            return None

    def _counts(self, request) -> list:
        """The inputs `count-<product>-<lot or 0>` that hold a whole number."""
        counts = []
        lot_codes = {
            name.removeprefix("lot-"): value
            for name, value in request.POST.items()
            if name.startswith("lot-")
        }
        for name, value in request.POST.items():
            if not name.startswith("count-") or not value.strip():
                continue
            key = name.removeprefix("count-")
            product, _, _ = key.partition("-")
            if not product.isdigit() or not value.strip().isdigit():
                raise BrokenRule(f"Counted quantities are whole numbers: {value!r}.")
            counts.append(
                services.LineCount(
                    product_id=int(product),
                    counted_quantity=int(value.strip()),
                    lot_code=lot_codes.get(key) or None,
                )
            )
        return counts
