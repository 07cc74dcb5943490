"""The number kinds of the API, each defined once: quantities, money and costs (API.md,
Conventions).

Quantities are PostgreSQL `integer` columns; money is a Decimal with 2 places (stored prices
and costs: 12 digits), never a float; average costs and the unit costs the ledger records have
4 places (rounded half-even). Sums computed by the database get room to grow.
"""

from decimal import ROUND_HALF_EVEN, Decimal

from django.db import models
from django.db.models import Sum, Value
from django.db.models.functions import Coalesce
from rest_framework import serializers

# The largest quantity a column (and so a balance) can hold.
MAX_QUANTITY = 2_147_483_647
# A price or cost of one unit, as stored: 2 places.
MONEY_DIGITS = 12
MONEY_PLACES = 2
# Products of quantities and prices, and their sums (as the database computes them, or as a
# line's cost of goods is stored).
MONEY_TOTAL_DIGITS = 30
# An average or unit cost: 4 places, as many whole digits as a stored price.
COST_PLACES = 4
COST_DIGITS = MONEY_DIGITS + 2
COST = Decimal(1).scaleb(-COST_PLACES)
CENT = Decimal("0.01")


def as_cost(value) -> Decimal:
    """A unit or average cost as stored: 4 places, rounded half-even (API.md, Valuation)."""
    return Decimal(value).quantize(COST, rounding=ROUND_HALF_EVEN)


def as_money(value) -> Decimal:
    """An amount as stored (e.g. a line's cost of goods): 2 places, rounded half-even."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


def money_field(*, total: bool = False, **kwargs) -> models.DecimalField:
    """A stored price or cost (>= 0: CheckConstraints back it up); `total`: an amount of many
    units (a line's cost of goods, a sum), with room to grow."""
    digits = MONEY_TOTAL_DIGITS if total else MONEY_DIGITS
    return models.DecimalField(max_digits=digits, decimal_places=MONEY_PLACES, **kwargs)


MONEY_TOTAL = money_field(total=True)  # the output field of money computed in SQL


def cost_field(**kwargs) -> models.DecimalField:
    """A stored average or unit cost (4 places)."""
    return models.DecimalField(max_digits=COST_DIGITS, decimal_places=COST_PLACES, **kwargs)


class NonNegativeDecimalField(serializers.DecimalField):
    """A decimal >= 0 a client sends; "-0" is taken as 0 (it passes `min_value=0`, and would be
    answered "-0.00" where the database, which keeps no sign on zero, reads back "0.00")."""

    def to_internal_value(self, data):
        return super().to_internal_value(data) + 0  # -0.00 + 0 == 0.00: the sign dropped


def money_input(**kwargs) -> serializers.DecimalField:
    """A price or cost a client sends: a decimal string, >= 0, 2 places."""
    return NonNegativeDecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, min_value=0, **kwargs
    )


def money_output(**kwargs) -> serializers.DecimalField:
    """A computed amount (a line total, a stock value, a report figure): read-only, 2 places,
    unbounded digits (a sum over many rows may exceed any column's size)."""
    return serializers.DecimalField(
        max_digits=None, decimal_places=MONEY_PLACES, read_only=True, **kwargs
    )


def quantity_input(*, minimum: int = 0, **kwargs) -> serializers.IntegerField:
    """A quantity a client sends: an integer from `minimum` to MAX_QUANTITY."""
    return serializers.IntegerField(min_value=minimum, max_value=MAX_QUANTITY, **kwargs)


def cost_input(**kwargs) -> serializers.DecimalField:
    """A unit cost a client sends: a decimal string, >= 0, up to 4 places."""
    return NonNegativeDecimalField(
        max_digits=COST_DIGITS, decimal_places=COST_PLACES, min_value=0, **kwargs
    )


def cost_output(**kwargs) -> serializers.DecimalField:
    """An average or unit cost shown: read-only, 4 places, null where the caller may not see
    costs (the `sales` role) and where there is none."""
    return serializers.DecimalField(
        max_digits=None, decimal_places=COST_PLACES, read_only=True, allow_null=True, **kwargs
    )


def money_sum(expression, **kwargs):
    """SUM of an amount computed by the database, 0.00 over no rows (never NULL)."""
    return Coalesce(
        Sum(expression, output_field=MONEY_TOTAL, **kwargs),
        Value(0, output_field=MONEY_TOTAL),
        output_field=MONEY_TOTAL,
    )
