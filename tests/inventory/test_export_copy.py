"""The product export through COPY on PostgreSQL writes exactly the bytes of the row-by-row
path (which SQLite keeps): same columns, formats, formula guard, quoting and line ends."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from core.dates import local_today
from core.exports import copy_lines, csv_lines
from inventory.exports import PRODUCT_COLUMNS, product_rows
from inventory.models import Product
from purchases.selectors import on_order
from stock import services
from stock.selectors import with_stock_figures
from tests.factories import CategoryFactory, ProductFactory, SupplierFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

AWKWARD = [
    "=SUM(A1:A9)", "+1 555", "-2", "@user", "\tindented", "\rcarriage", "plain", "",
    'say "cheese", twice', "two\nlines", "windows\r\nlines", "lone\rreturn", "\\.", "Café ☕ 🚀",
    " padded ", "'already quoted", "trailing comma,", "\uff1d1+1", "\uff20user", "\uff0d2",
]  # fmt: skip


@pytest.fixture
def awkward(organization, stocked):
    category = CategoryFactory(organization=organization, name='=Category, "quoted"')
    supplier = SupplierFactory(organization=organization, name="@Supplier\nInc")
    for n, text in enumerate(AWKWARD):
        stocked(
            n % 4, organization=organization, sku=f"SKU-{n:02d}", name=text or "unnamed",
            description=text, barcode=text or None, price=f"{n}.{n:02d}",
            cost_price=None if n % 3 else f"0.{n:02d}", low_stock_threshold=n % 5,
            category=category if n % 2 else None, supplier=supplier if n % 3 else None,
            expiration_date=local_today(None) - datetime.timedelta(days=n - 8) if n % 4 else None,
        )  # fmt: skip
    parent = ProductFactory(organization=organization, sku="SHIRT", name="Shirt", price="9",
                            has_variations=True)  # fmt: skip
    attributes = {"size": "M", "colour": 'vert "olive"', "é": "\u2028", "a": "\x01"}
    stocked(1, organization=organization, sku="SHIRT-M", name="Shirt M", price="9", parent=parent,
            attributes=attributes)  # fmt: skip
    yoghurt = ProductFactory(organization=organization, sku="YOG", price="1", track_lots=True)
    services.record_movement(product=yoghurt, movement_type="IN", quantity=5, user=None,
                             lot_code="L1", expiration_date=local_today(None))  # fmt: skip
    # A timestamp with no microseconds is written without them (as the JSON writes it).
    Product.objects.filter(sku="SKU-01").update(
        created_at=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        updated_at=timezone.now().replace(microsecond=10),
    )


def both(queryset, *, hide_costs=False) -> tuple[bytes, bytes]:
    rows = "".join(csv_lines(PRODUCT_COLUMNS, product_rows(queryset), hide_costs=hide_costs))
    return b"".join(copy_lines(queryset, PRODUCT_COLUMNS, hide_costs=hide_costs)), rows.encode()


@pytest.mark.parametrize("hide_costs", [False, True])
def test_copy_writes_the_same_bytes(organization, awkward, hide_costs):
    products = (
        with_stock_figures(
            Product.objects.filter(organization=organization), today=local_today(organization)
        )
        .annotate(on_order=on_order())
        .order_by("name", "id")
    )

    copied, written = both(products, hide_costs=hide_costs)

    assert copied == written
    assert len(list(csv.reader(io.StringIO(copied.decode())))) == 1 + len(AWKWARD) + 3


def test_copy_honours_the_lists_filters_through_the_api(admin_client, organization, awkward):
    response = admin_client.get("/api/products/export/?search=lines&ordering=-price")
    body = b"".join(response.streaming_content)
    products = (
        with_stock_figures(
            Product.objects.filter(
                organization=organization, is_archived=False, name__contains="lines"
            ),
            today=local_today(organization),
        )
        .annotate(on_order=on_order())
        .order_by("-price", "-id")
    )
    assert body == both(products)[1]
    assert len(list(csv.reader(io.StringIO(body.decode())))) == 1 + 2  # the header, two rows
