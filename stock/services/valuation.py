"""Valuation (API.md): a product's `average_cost` is the moving average of what its stock on hand
cost. An IN that brings stock at a unit cost (a receipt, a manual IN with a cost, opening stock
at `cost_price`, a customer return at the sale's cost) sets it to
`(on_hand * average + quantity * unit_cost) / (on_hand + quantity)`, 4 places, half-even; every
other movement leaves it as it is and records it as its `unit_cost`. Being written under the
product's lock with the quantity (stock.services.books), it never loses an update."""

import decimal

from core.fields import as_cost
from stock.services.errors import InvalidStockChange


def moving_average(
    *, on_hand: int, average: decimal.Decimal, quantity: int, unit_cost: decimal.Decimal
) -> decimal.Decimal:
    """The average cost after `quantity` units at `unit_cost` join `on_hand` units at
    `average`: 4 places, rounded half-even (API.md, Valuation)."""
    with decimal.localcontext(prec=60):
        total = on_hand * decimal.Decimal(average) + quantity * decimal.Decimal(unit_cost)
        return as_cost(total / (on_hand + quantity))


def check_unit_cost(unit_cost, *, field: str = "unit_cost") -> None:
    """A unit cost, where one is given, is a Decimal >= 0."""
    if unit_cost is None:
        return
    if not isinstance(unit_cost, decimal.Decimal) or not unit_cost.is_finite() or unit_cost < 0:
        raise InvalidStockChange("A unit cost is a decimal >= 0.", field=field)
