"""Replenishment in the admin: reorder rules (through the services, as in the API) and the
**Replenishment** page (`/admin/replenishment/`): what is due, grouped by supplier, with the
suggested packs and cost, and a button that makes the draft purchase orders, then links to
them. An organization's staff see and order for their organization only; a superuser chooses
an organization."""

from itertools import groupby

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import (
    OrganizationAdminForm,
    OrganizationAdminMixin,
    SavedByServicesMixin,
    refusal_messages,
)
from core.currencies import with_currency
from core.dates import local_today
from core.errors import DomainError
from core.fields import as_money
from core.tenancy import sees_costs
from replenishment import selectors, services
from replenishment.models import ReorderRule
from users.models import Organization


class ReorderRuleForm(OrganizationAdminForm):
    class Meta:
        model = ReorderRule
        fields = [
            "organization",
            "product",
            "location",
            "supplier",
            "min_quantity",
            "max_quantity",
            "snoozed_until",
        ]

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_quantity"), cleaned.get("max_quantity")
        if low is not None and high is not None and high <= low:
            self.add_error("max_quantity", "Must be above min_quantity.")
        return cleaned


@admin.register(ReorderRule)
class ReorderRuleAdmin(SavedByServicesMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """Reorder rules through the replenishment services, as in the API."""

    form = ReorderRuleForm
    list_display = [
        "product", "location", "supplier", "min_quantity", "max_quantity", "snoozed_until",
        "organization",
    ]  # fmt: skip
    list_filter = ["location", "supplier", "organization"]
    list_select_related = ["product", "location", "supplier", "organization"]
    search_fields = ["product__sku", "product__name"]
    autocomplete_fields = ["organization", "product", "supplier"]
    readonly_fields = ["created_at", "updated_at"]
    service_fields = (
        "product", "location", "supplier", "min_quantity", "max_quantity", "snoozed_until",
    )  # fmt: skip

    def service_create(self, organization, **fields):
        return services.create_reorder_rule(organization=organization, **fields)

    def service_update(self, rule, **fields):
        return services.update_reorder_rule(rule=rule, **fields)

    def service_delete(self, rule):
        services.delete_reorder_rule(rule=rule)


class OrganizationChoiceForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.order_by("name", "id"),
        required=False,
        empty_label="Choose an organization",
    )


def _organization(request) -> tuple[Organization | None, OrganizationChoiceForm | None]:
    """The signed-in user's organization; a superuser's choice (their own until they choose)."""
    if not request.user.is_superuser:
        return request.user.organization, None
    form = OrganizationChoiceForm(request.GET or None)
    chosen = form.cleaned_data["organization"] if form.is_valid() else None
    return chosen or request.user.organization, form


def _groups(rows, *, costs: bool, currency: str) -> list[dict]:
    """The due rows by supplier (no supplier last), each with its lines' total cost."""
    groups = []
    for (_supplier, name), lines in groupby(
        rows, key=lambda row: (row["supplier"], row["supplier_name"])
    ):
        lines = list(lines)
        known = [row["line_cost"] for row in lines if row["line_cost"] is not None]
        for row in lines:
            row["cost_shown"] = (
                with_currency(as_money(row["line_cost"]), currency)
                if costs and row["line_cost"] is not None
                else "-"
            )
        groups.append({
            "supplier_name": name,
            "lines": lines,
            "total": with_currency(as_money(sum(known)), currency) if costs and known else "-",
        })  # fmt: skip
    return groups


def replenishment_view(request):
    """GET: what is due; POST (with the permission to add reorder rules, as the API asks):
    make the draft orders and link to them."""
    if not request.user.has_perm("replenishment.view_reorderrule"):
        raise PermissionDenied
    organization, form = _organization(request)
    if request.method == "POST":
        if organization is None or not request.user.has_perm("replenishment.add_reorderrule"):
            raise PermissionDenied
        try:
            orders = services.create_replenishment_orders(
                organization=organization, user=request.user
            )
        except DomainError as refusal:
            for message in refusal_messages(refusal):
                messages.error(request, message)
        else:
            if orders:
                links = format_html_join(
                    ", ",
                    '<a href="{}">{}</a>',
                    (
                        (reverse("admin:purchases_purchaseorder_change", args=[o.pk]), o.reference)
                        for o in orders
                    ),
                )
                messages.success(request, format_html("Draft orders made: {}.", links))
            else:
                messages.info(request, "Nothing to order: what is due is already on order.")
        return redirect(request.get_full_path())
    groups = None
    if organization is not None:
        rows = selectors.replenishment_rows(
            organization_id=organization.pk, today=local_today(organization)
        )
        groups = _groups(rows, costs=sees_costs(request.user), currency=organization.currency)
    context = {
        **admin.site.each_context(request),
        "title": "Replenishment" if organization is None else f"Replenishment: {organization.name}",
        "form": form,
        "organization": organization,
        "groups": groups,
        "can_order": organization is not None
        and request.user.has_perm("replenishment.add_reorderrule"),
    }
    return TemplateResponse(request, "admin/replenishment/replenishment.html", context)


admin.site.register_page(
    route="replenishment/",
    name="replenishment",
    title="Replenishment",
    view=replenishment_view,
    description="What is due to be ordered, by supplier, and the draft purchase orders for it.",
)
