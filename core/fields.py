"""The number kinds of the API, each defined once: quantities and money (API.md, Conventions).

Quantities are PostgreSQL `integer` columns; money is a Decimal with 2 places (stored prices
and costs: 12 digits), never a float. Sums computed by the database get room to grow.
"""

from django.db import models
from rest_framework import serializers

# The largest quantity a column (and so a balance) can hold.
MAX_QUANTITY = 2_147_483_647
# A price or cost of one unit, as stored.
MONEY_DIGITS = 12
# Products of quantities and prices, and their sums, as the database computes them.
MONEY_TOTAL = models.DecimalField(max_digits=30, decimal_places=2)


def money_field(**kwargs) -> models.DecimalField:
    """A stored price or cost (>= 0: CheckConstraints back it up)."""
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=2, **kwargs)


def money_input(**kwargs) -> serializers.DecimalField:
    """A price or cost a client sends: a decimal string, >= 0, 2 places."""
    return serializers.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=2, min_value=0, **kwargs
    )


def money_output(**kwargs) -> serializers.DecimalField:
    """A computed amount (a line total, a stock value, a report figure): read-only, 2 places,
    unbounded digits (a sum over many rows may exceed any column's size)."""
    return serializers.DecimalField(max_digits=None, decimal_places=2, read_only=True, **kwargs)


def quantity_input(*, minimum: int = 0, **kwargs) -> serializers.IntegerField:
    """A quantity a client sends: an integer from `minimum` to MAX_QUANTITY."""
    return serializers.IntegerField(min_value=minimum, max_value=MAX_QUANTITY, **kwargs)
