"""What the stock tests share: dates from today, API and service shortcuts, levels read back."""

import datetime

from core.dates import local_today
from stock import services
from stock.models import StockLevel

MOVEMENTS = "/api/stock/movements/"


def days(n: int) -> datetime.date:
    return local_today(None) + datetime.timedelta(days=n)


def move(client, **body):
    return client.post(MOVEMENTS, body, format="json")


def receive_lot(product, code, quantity, *, expires=None, location=None, user=None):
    """An IN of a lot through the service (the API's own path is tested in test_lots)."""
    return services.record_movement(
        product=product,
        movement_type="IN",
        quantity=quantity,
        user=user,
        location=location,
        lot_code=code,
        expiration_date=expires,
    )


def levels(product) -> dict:
    """{(location name, lot code or None): quantity} of the product's levels holding stock."""
    return {
        (level.location.name, level.lot.code if level.lot else None): level.quantity
        for level in StockLevel.objects.filter(product=product, quantity__gt=0).select_related(
            "location", "lot"
        )
    }
