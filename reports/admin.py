"""The admin's dashboard (`/admin/dashboard/`): what an organization's stock is worth by
category and by location, its sales and margin over time, and its most urgent low-stock and
expiring products, drawn from the same selectors as `/api/dashboard/` and its reports.

An organization's own staff see their organization's figures, and only theirs; a superuser
chooses an organization (their own, if they have one, until they choose). Cost figures are
shown only to users who may see costs (`core.tenancy.sees_costs`). The page embeds its figures
as JSON and our script draws them with Chart.js from our own static files (nothing is fetched
from elsewhere: it works offline). The date range and the interval are checked as the API
checks them (`SalesOverTimeParamsSerializer`): a bad one is a form error, never a 500.
"""

import datetime

from django import forms
from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from core.dates import local_today
from core.fields import as_money
from core.tenancy import sees_costs
from inventory.selectors import stock_keeping_products
from reports import selectors
from reports.serializers import SalesOverTimeParamsSerializer
from stock.selectors import most_urgent_expiring
from users.models import Organization

URGENT_ROWS = 10  # per table of the most urgent products; the full lists are the filters'
NO_CATEGORY = "No category"


class DateInput(forms.DateInput):
    """The browser's own date picker (no script of ours), in ISO format."""

    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


class DashboardForm(forms.Form):
    """The dates and the interval of the sales chart, with the API's defaults and limits (the
    last 30 days by day; at most `selectors.MAX_PERIODS` periods); for a superuser, also the
    organization."""

    organization = forms.ModelChoiceField(
        queryset=Organization.objects.order_by("name", "id"),
        required=False,
        empty_label="Choose an organization",
    )
    date_from = forms.DateField(label="From", required=False, widget=DateInput())
    date_to = forms.DateField(label="To", required=False, widget=DateInput())
    interval = forms.ChoiceField(
        label="By",
        choices=[(interval, interval.capitalize()) for interval in selectors.INTERVALS],
        required=False,
    )

    def __init__(self, data, *, organization: Organization | None):
        """`organization`: the signed-in user's; None: a superuser, who chooses one."""
        super().__init__(data)
        self.organization = organization
        if organization is not None:
            del self.fields["organization"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        given = {
            name: cleaned[name]
            for name in ("date_from", "date_to", "interval")
            if cleaned.get(name) not in (None, "")
        }
        organization = self.organization or cleaned.get("organization")
        params = SalesOverTimeParamsSerializer(
            data=given, context={"today": local_today(organization)}
        )
        if not params.is_valid():
            for field, messages in params.errors.items():
                self.add_error(field if field in self.fields else None, [str(m) for m in messages])
            return cleaned
        used = params.validated_data
        # The form shows the dates and the interval it used, the defaults included.
        self.data = {**self.data.dict(), **{name: str(value) for name, value in used.items()}}
        return {**cleaned, **used}


def _money(values) -> list[str]:
    """Amounts as the API writes them: decimal strings with 2 places."""
    return [str(as_money(value)) for value in values]


def _bars(rows: list[dict], *, costs: bool) -> dict:
    """A bar chart's series: a label per row, its stock value at price (and at cost)."""
    series = {
        "labels": [row["name"] or NO_CATEGORY for row in rows],
        "value": _money(row["total_value"] for row in rows),
    }
    if costs:
        series["cost_value"] = _money(row["total_cost_value"] for row in rows)
    return series


def _line(periods: list[dict], *, interval: str, costs: bool) -> dict:
    """The sales chart's series: a label per period (its first date), revenue and revenue net
    of returns (and the cost of goods sold, the gross margin and the margin net of returns)."""
    series = {
        "interval": interval,
        "labels": [period["period"].isoformat() for period in periods],
        "revenue": _money(period["total_revenue"] for period in periods),
        "net_revenue": _money(period["net_revenue"] for period in periods),
    }
    if costs:
        series["cost"] = _money(period["total_cost"] for period in periods)
        series["margin"] = _money(period["gross_margin"] for period in periods)
        series["net_margin"] = _money(period["net_margin"] for period in periods)
    return series


def _cards(stock: dict, sales: dict, *, costs: bool, urls: dict) -> list[dict]:
    """The headline figures: stock totals (linked to the product list's filters) and the
    sales within the dates, net of the returns recorded within them; the cost figures only for
    who may see them. `amount`: a sum of money (shown with the organization's currency)."""
    orders = sales["order_count"]
    cards = [
        ("stock-value", "Stock at price", as_money(stock["total_inventory_value"]), None),
        ("stock-cost", "Stock at cost", as_money(stock["total_cost_value"]), None),
        ("expired-value", "Expired stock", as_money(stock["expired_stock_value"]), "expired"),
        ("low-stock", "Low stock", stock["low_stock_count"], "low_stock"),
        ("out-of-stock", "Out of stock", stock["out_of_stock_count"], "out_of_stock"),
        ("revenue", f"Sales ({orders} order{'s' if orders != 1 else ''})",
         as_money(sales["total_revenue"]), None),
        ("cost", "Cost of goods sold", as_money(sales["total_cost"]), None),
        ("margin", "Gross margin", as_money(sales["gross_margin"]), None),
        ("returned", "Returned", as_money(sales["returned_amount"]), None),
        ("net-revenue", "Net revenue", as_money(sales["net_revenue"]), None),
        ("net-margin", "Net margin", as_money(sales["net_margin"]), None),
    ]  # fmt: skip
    hidden = set() if costs else {"stock-cost", "cost", "margin", "net-margin"}
    return [
        {"name": name, "title": title, "value": value, "url": urls.get(link),
         "amount": not isinstance(value, int)}
        for name, title, value, link in cards
        if name not in hidden
    ]  # fmt: skip


def product_list_urls() -> dict:
    """The product list, and its filters that show every product a card or table counts."""
    products = reverse("admin:inventory_product_changelist")
    return {
        "products": products,
        "low_stock": f"{products}?stock=low",
        "out_of_stock": f"{products}?stock=out",
        "expired": f"{products}?expiry=expired",
        "expiring": f"{products}?expiry=soon",
    }


def dashboard_figures(
    *,
    organization: Organization,
    date_from: datetime.date,
    date_to: datetime.date,
    interval: str,
    costs: bool,
) -> dict:
    """Everything the dashboard shows of one organization, from the API's selectors: the
    stock totals and categories (`cached_dashboard`), the locations (`location_figures`), the sales
    within the dates (`total_sales`) and per period (`sales_over_time`), and the most urgent
    low-stock and expiring products with how many there are. A constant number of queries
    (the stock totals and categories cached as the API caches them, `cached_dashboard`). Dates,
    periods and "today" are the organization's local ones; amounts are in its currency."""
    organization_id = organization.pk
    today = local_today(organization)
    stock = selectors.cached_dashboard(organization=organization)
    locations = selectors.location_figures(organization_id=organization_id)
    dates = {"date_from": date_from, "date_to": date_to}
    sales = selectors.total_sales(organization=organization, **dates)
    periods = selectors.sales_over_time(organization=organization, interval=interval, **dates)
    products = stock_keeping_products(organization_id=organization_id)
    days = settings.ALERT_EXPIRY_DAYS
    expiring = most_urgent_expiring(
        products, days=days, organization_id=organization_id, today=today
    )
    return {
        "stock": stock,
        "currency": organization.currency,
        "cards": _cards(stock, sales, costs=costs, urls=product_list_urls()),
        "low_stock": list(selectors.low_stock_list(products, today=today)[:URGENT_ROWS]),
        "expiring": list(expiring[:URGENT_ROWS]),
        "expiring_count": expiring.order_by().count(),
        "expiry_days": days,
        "charts": {
            "costs": costs,
            "currency": organization.currency,
            "categories": _bars(stock["categories"], costs=costs),
            "locations": _bars(locations, costs=costs),
            "sales": _line(periods, interval=interval, costs=costs),
        },
    }


@require_safe
def dashboard_view(request):
    """The dashboard of the signed-in user's organization (a superuser's choice: their own
    until they choose), for the dates and interval asked; a bad one is the form again with
    its errors. The `organization` asked for is read only for a superuser."""
    superuser = request.user.is_superuser
    data = request.GET.copy()
    if superuser and not data.get("organization") and request.user.organization_id:
        data["organization"] = str(request.user.organization_id)
    form = DashboardForm(data, organization=None if superuser else request.user.organization)
    costs = sees_costs(request.user)
    organization = figures = None
    if form.is_valid():
        organization = form.cleaned_data["organization"] if superuser else request.user.organization
    if organization is not None:
        figures = dashboard_figures(
            organization=organization,
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            interval=form.cleaned_data["interval"],
            costs=costs,
        )
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard" if organization is None else f"Dashboard: {organization.name}",
        "form": form,
        "organization": organization,
        "figures": figures,
        "costs": costs,
        "urls": product_list_urls(),
    }
    return TemplateResponse(request, "admin/reports/dashboard.html", context)


admin.site.register_page(
    route="dashboard/",
    name="dashboard",
    title="Dashboard",
    view=dashboard_view,
    description="Stock value by category and location, sales and margin over time, "
    "what is low or expiring.",
)
