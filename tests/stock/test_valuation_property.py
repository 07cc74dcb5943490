"""A property test of valuation (API.md): random sequences of receipts at random costs, INs
without a cost, sales (straight, or confirmed first), customer returns, OUTs, stocktakes and
transfers, driven through the services, against a plain reference computation written here.

After every sequence the product's `average_cost`, the `unit_cost` of every movement and the
cost of goods of every sales line (and of each order) are exactly what the reference says, and
the ledger still balances. Examples: 2,000 in CI (`CI=true`), 200 otherwise;
HYPOTHESIS_EXAMPLES overrides both.
"""

import os
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.models import Product
from orders.services import DocumentLine, OrderItem
from sales import services as sales
from sales.models import SalesOrderItem
from sales.selectors import sales_orders_with_totals
from stock import services as stock
from stock.models import StockMovement
from stock.selectors import ledger_mismatches
from tests.factories import ProductFactory

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES") or (2000 if IN_CI else 200))

# --- The reference: plain arithmetic, as API.md's Valuation section says it ------------------


def half_even(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_EVEN)


@dataclass
class Sale:
    order_id: int
    location: int
    lines: list[tuple[int, Decimal, Decimal]]  # (quantity, unit cost, line cost)
    returnable: int  # of its first line


@dataclass
class Reference:
    """What the books should say: stock per location, the average, every movement's cost."""

    on_hand: list[int] = field(default_factory=lambda: [0, 0])
    average: Decimal = Decimal("0")
    unit_costs: list[Decimal] = field(default_factory=list)
    sales: list[Sale] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.on_hand)

    def bring_in(self, location: int, quantity: int, cost: Decimal | None) -> None:
        """An IN: at its cost into the average, or (no cost) at the average."""
        if cost is not None:
            weighted = self.total * self.average + quantity * cost
            self.average = half_even(weighted / (self.total + quantity), "0.0001")
        self.unit_costs.append(self.average if cost is None else cost)
        self.on_hand[location] += quantity

    def take(self, location: int, quantity: int) -> None:
        """An OUT, valued at the average, which stays."""
        self.on_hand[location] -= quantity
        self.unit_costs.append(self.average)


# --- The operations ------------------------------------------------------------------------------

locations = st.integers(0, 1)
quantities = st.integers(1, 40)
costs = st.decimals(min_value=0, max_value=Decimal("999.9999"), places=4)
operations = st.one_of(
    st.tuples(st.just("receive"), locations, quantities, costs),
    st.tuples(st.just("in"), locations, quantities, st.none()),
    st.tuples(
        st.just("sell"), locations, st.lists(quantities, min_size=1, max_size=3), st.booleans()
    ),  # fmt: skip
    st.tuples(st.just("return"), st.integers(0, 9), quantities, st.booleans()),
    st.tuples(st.just("out"), locations, quantities),
    st.tuples(st.just("count"), locations, st.integers(0, 60)),
    st.tuples(st.just("transfer"), locations, quantities),
)


@pytest.fixture
def shop(organization, admin_user):
    """The organization's two locations, and who does the work."""
    main = stock.default_location(organization_id=organization.pk)
    back = stock.create_location(organization=organization, name="Back room")
    return {"organization": organization, "user": admin_user, "locations": [main, back]}


def run(shop, product, reference: Reference, operation) -> None:
    """Do one operation through the services; what the stock cannot do must raise and change
    nothing (the reference then stays as it is)."""
    kind, *args = operation
    user, places = shop["user"], shop["locations"]
    if kind in ("receive", "in"):
        where, quantity, cost = args
        stock.add_to_stock(
            lines=[stock.StockLine(product.pk, quantity, unit_cost=cost)],
            location=places[where],
            source=StockMovement.Source.PURCHASE_ORDER,
            reference="PO-TEST",
            user=user,
        )
        reference.bring_in(where, quantity, cost)
    elif kind == "sell":
        where, line_quantities, confirm_first = args
        if sum(line_quantities) > reference.on_hand[where]:
            with pytest.raises(stock.InsufficientStock):
                sell(shop, product, where, line_quantities, confirm_first)
            return
        order = sell(shop, product, where, line_quantities, confirm_first)
        lines = []
        for quantity in line_quantities:
            reference.take(where, quantity)
            cost = reference.average
            lines.append((quantity, cost, half_even(quantity * cost, "0.01")))
        # Returns give back units of its first line.
        reference.sales.append(Sale(order.pk, where, lines, returnable=line_quantities[0]))
    elif kind == "return":
        pick, quantity, restock = args
        open_sales = [sale for sale in reference.sales if sale.returnable]
        if not open_sales:
            return
        sale = open_sales[pick % len(open_sales)]
        quantity = min(quantity, sale.returnable)
        give_back(shop, sale, quantity, restock)
        sale.returnable -= quantity
        if restock:  # one IN at the cost the sale recorded
            reference.bring_in(sale.location, quantity, sale.lines[0][1])
    elif kind == "out":
        where, quantity = args
        move = {"product": product, "movement_type": "OUT", "quantity": quantity, "user": user}
        if quantity > reference.on_hand[where]:
            with pytest.raises(stock.InsufficientStock):
                stock.record_movement(**move, location=places[where])
            return
        stock.record_movement(**move, location=places[where])
        reference.take(where, quantity)
    elif kind == "count":
        where, counted = args
        stock.record_movement(
            product=product, movement_type="ADJUST", quantity=counted, user=user,
            location=places[where],
        )  # fmt: skip
        reference.on_hand[where] = counted  # a stocktake's ADJUST, at the average
        reference.unit_costs.append(reference.average)
    elif kind == "transfer":
        where, quantity = args
        transfer = {
            "product": product,
            "from_location": places[where],
            "to_location": places[1 - where],
            "quantity": quantity,
            "user": user,
        }
        if quantity > reference.on_hand[where]:
            with pytest.raises(stock.InsufficientStock):
                stock.transfer_stock(**transfer)
            return
        stock.transfer_stock(**transfer)
        reference.take(where, quantity)
        reference.bring_in(1 - where, quantity, None)


def sell(shop, product, where, line_quantities, confirm_first):
    order = sales.create_sales_order(
        organization=shop["organization"],
        user=shop["user"],
        location=shop["locations"][where],
        items=[OrderItem(product, quantity) for quantity in line_quantities],
        status="confirmed" if confirm_first else "fulfilled",
    )
    if confirm_first:
        sales.update_sales_order(order=order, user=shop["user"], status="fulfilled")
    return order


def give_back(shop, sale: Sale, quantity: int, restock: bool) -> None:
    order = sales_orders_with_totals().get(pk=sale.order_id)
    item = order.items.order_by("id").first()
    sales.record_customer_return(
        order=order, user=shop["user"], restock=restock,
        lines=[DocumentLine(item.pk, quantity)],
    )  # fmt: skip


@pytest.mark.django_db
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=IN_CI,  # CI runs the same examples every time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(operations, min_size=1, max_size=12))
def test_average_and_unit_costs_and_cost_of_goods_follow_the_reference(shop, sequence):
    product = ProductFactory(organization=shop["organization"], price="9.99", cost_price=None)
    reference = Reference()

    for operation in sequence:
        run(shop, product, reference, operation)

    assert Product.objects.get(pk=product.pk).average_cost == reference.average
    recorded = StockMovement.objects.filter(product=product).order_by("id")
    assert list(recorded.values_list("unit_cost", flat=True)) == reference.unit_costs
    for sale in reference.sales:
        lines = SalesOrderItem.objects.filter(order_id=sale.order_id).order_by("id")
        assert list(lines.values_list("quantity", "unit_cost", "line_cost")) == sale.lines
        order = sales_orders_with_totals().get(pk=sale.order_id)
        assert order.total_cost == sum(line_cost for *_, line_cost in sale.lines)
    assert ledger_mismatches(organization_id=shop["organization"].pk) == []
