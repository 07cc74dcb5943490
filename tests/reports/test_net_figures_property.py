"""A property test of the figures net of returns (API.md, Reports): for any sales and customer
returns (restocked or not), at any times around a daylight-saving change in a zone far from
UTC, total-sales' `net_revenue` and `net_margin` over a range of local dates equal the sum of
sales-over-time's rows over the same range (by day, week or month), and both equal a plain
Python reference computed from the lines as recorded, on local dates computed by zoneinfo.

Sales and returns go through the services, each with the clock stopped at its instant
(time-machine), so they are stamped, costed and restocked as a shop's would be. Examples: 200
in CI (`CI=true`), 40 otherwise; HYPOTHESIS_EXAMPLES overrides both.
"""

import datetime
import os
from decimal import Decimal

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.dates import zone
from orders.services import DocumentLine, OrderItem
from reports import selectors
from sales import services as sales_services
from sales.models import CustomerReturnLine, SalesOrder, SalesOrderItem
from stock import services as stock_services
from tests.factories import OrganizationFactory, ProductFactory, UserFactory
from users.models import Role

pytestmark = pytest.mark.django_db
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES") or (200 if IN_CI else 40))
UTC = datetime.UTC
# Around a daylight-saving change (or an ordinary day, where there is none), four days each way.
AROUND = {
    "Pacific/Auckland": datetime.datetime(2026, 4, 4, 14, tzinfo=UTC),
    "America/New_York": datetime.datetime(2026, 11, 1, 6, tzinfo=UTC),
    "Pacific/Kiritimati": datetime.datetime(2026, 11, 21, 10, tzinfo=UTC),
    "Pacific/Pago_Pago": datetime.datetime(2026, 11, 21, 10, tzinfo=UTC),
}
MINUTES = 4 * 24 * 60

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99.99"), places=2)
costs = st.decimals(min_value=Decimal("0"), max_value=Decimal("99.9999"), places=4)
events = st.one_of(
    # a delivery at a cost: the average cost (what later sales record) moves
    st.tuples(st.just("delivery"), st.integers(0, 1), st.integers(1, 50), costs),
    # a sale of one or two lines
    st.tuples(
        st.just("sale"),
        st.lists(st.tuples(st.integers(0, 1), st.integers(1, 9), prices), min_size=1, max_size=2),
    ),
    # a return of part of an earlier sale's line, restocked or not
    st.tuples(st.just("return"), st.integers(0, 20), st.integers(1, 9), st.booleans()),
)


def reference(organization, *, date_from: datetime.date, date_to: datetime.date) -> dict:
    """Net revenue and net margin from the lines as recorded, on local dates (zoneinfo)."""
    tz = zone(organization.time_zone)

    def within(at) -> bool:
        return date_from <= at.astimezone(tz).date() <= date_to

    revenue = cost = returned = returned_cost = Decimal("0")
    for line in SalesOrderItem.objects.filter(order__organization=organization).select_related(
        "order"
    ):
        if within(line.order.fulfilled_at):
            revenue += line.quantity * line.unit_price
            cost += line.line_cost
    for line in CustomerReturnLine.objects.filter(
        customer_return__organization=organization
    ).select_related("customer_return"):
        if within(line.customer_return.created_at):
            returned += line.quantity * line.unit_price
            if line.customer_return.restock:
                returned_cost += line.line_cost
    net_revenue = revenue - returned
    return {"net_revenue": net_revenue, "net_margin": net_revenue - (cost - returned_cost)}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=IN_CI,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    time_zone=st.sampled_from(sorted(AROUND)),
    timed=st.lists(st.tuples(st.integers(-MINUTES, MINUTES), events), min_size=1, max_size=10),
    first=st.integers(-5, 2),
    days=st.integers(0, 8),
    interval=st.sampled_from(["day", "week", "month"]),
)
def test_net_figures_add_up_and_follow_the_lines(time_zone, timed, first, days, interval):
    organization = OrganizationFactory(time_zone=time_zone)
    user = UserFactory(organization=organization, role=Role.ADMIN)
    center = AROUND[time_zone]
    products = [
        ProductFactory(organization=organization, price="5.00", cost_price=cost)
        for cost in ("1.10", "2.37")
    ]
    with time_machine.travel(center - datetime.timedelta(days=5), tick=False):
        for product in products:
            stock_services.record_initial_stock(product=product, quantity=1000, user=user)
    sold: list[tuple[SalesOrder, list[SalesOrderItem]]] = []
    for minutes, event in sorted(timed, key=lambda pair: pair[0]):  # in the order they happen
        with time_machine.travel(center + datetime.timedelta(minutes=minutes), tick=False):
            happen(event, organization=organization, user=user, products=products, sold=sold)

    center_day = center.astimezone(zone(time_zone)).date()
    date_from = center_day + datetime.timedelta(days=first)
    date_to = date_from + datetime.timedelta(days=days)
    total = selectors.total_sales(organization=organization, date_from=date_from, date_to=date_to)
    rows = selectors.sales_over_time(
        organization=organization, date_from=date_from, date_to=date_to, interval=interval
    )
    expected = reference(organization, date_from=date_from, date_to=date_to)

    assert {name: total[name] for name in expected} == expected
    assert sum(row["net_revenue"] for row in rows) == expected["net_revenue"]
    assert sum(row["net_margin"] for row in rows) == expected["net_margin"]
    for name in ("total_revenue", "total_cost", "returned_amount", "returned_cost"):
        assert sum(row[name] for row in rows) == total[name], name


def happen(event, *, organization, user, products, sold) -> None:
    kind, *args = event
    if kind == "delivery":
        which, quantity, cost = args
        stock_services.record_movement(
            product=products[which], movement_type="IN", quantity=quantity, unit_cost=cost,
            user=user,
        )  # fmt: skip
    elif kind == "sale":
        (lines,) = args
        order = sales_services.create_sales_order(
            organization=organization, user=user, status=SalesOrder.Status.FULFILLED,
            items=[OrderItem(products[which], quantity, price) for which, quantity, price in lines],
        )  # fmt: skip
        sold.append((order, list(order.items.order_by("id"))))
    elif kind == "return" and sold:
        pick, quantity, restock = args
        order, items = sold[pick % len(sold)]
        item = items[pick % len(items)]
        item.refresh_from_db()
        left = item.quantity - item.returned_quantity
        if left:
            sales_services.record_customer_return(
                order=order, user=user, restock=restock,
                lines=[DocumentLine(item.pk, min(quantity, left))],
            )  # fmt: skip
