"""The services an import writes through: stock's bulk entry for opening stock (one IN each,
through the books, the ledger true), and the reading of cells and files."""

import datetime
from decimal import Decimal

import pytest

from core.errors import BrokenRule
from imports import cells
from imports.reading import FileRefused, open_sheet
from inventory.services import ProductFields
from stock.models import StockLevel, StockMovement
from stock.services import InvalidStockChange, create_products_with_stock, record_opening_stock
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_opening_stock_of_many_products_is_one_in_each_through_the_books(
    organization, admin_user, ledger_stays_true
):
    products = [
        ProductFactory(organization=organization, cost_price=cost)
        for cost in ("0.50", None, "2.00")
    ]
    movements = record_opening_stock(
        stock=[(products[0], 4), (products[1], 0), (products[2], 1)], user=admin_user
    )
    assert [(m.product_id, m.delta, m.source) for m in movements] == [
        (products[0].pk, 4, "import"),
        (products[2].pk, 1, "import"),
    ]
    assert movements[0].unit_cost == Decimal("0.5000") and movements[0].balance_after == 4
    assert products[0].quantity == 4 and products[0].average_cost == Decimal("0.5000")
    assert StockLevel.objects.filter(organization=organization).count() == 2
    assert not StockMovement.objects.filter(product=products[1]).exists()


def test_opening_stock_of_a_lot_tracked_product_is_refused(organization):
    product = ProductFactory(organization=organization, track_lots=True)
    with pytest.raises(InvalidStockChange):
        record_opening_stock(stock=[(product, 3)], user=None)
    assert not StockMovement.objects.exists()


def test_products_created_in_bulk_with_a_taken_sku_create_none(organization):
    ProductFactory(organization=organization, sku="TAKEN")
    fields = [ProductFields(name="A", price=Decimal(1), sku="NEW"),
              ProductFields(name="B", price=Decimal(1), sku="taken")]  # fmt: skip
    with pytest.raises(BrokenRule):
        create_products_with_stock(
            organization=organization, products=[(f, 1) for f in fields], user=None
        )
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    ("reader", "value", "expected"),
    [
        (lambda v: cells.money(v, decimal_comma=True), "1.234,50", Decimal("1234.50")),
        (lambda v: cells.money(v, decimal_comma=False), 2.1, Decimal("2.10")),
        (lambda v: cells.whole_number(v), "12.0", 12),
        (lambda v: cells.whole_number(v), 7.0, 7),
        (lambda v: cells.date(v), "2027-01-31", datetime.date(2027, 1, 31)),
        (lambda v: cells.boolean(v), "Yes", True),
        (lambda v: cells.text(v, max_length=10), "'=1+1", "=1+1"),
        (lambda v: cells.text(v, max_length=20), 4006381333931.0, "4006381333931"),
    ],
)
def test_cells_read_as_the_export_writes_them(reader, value, expected):
    assert reader(value) == expected


@pytest.mark.parametrize(
    ("reader", "value"),
    [
        (lambda v: cells.money(v, decimal_comma=False), "-1"),
        (lambda v: cells.money(v, decimal_comma=False), "NaN"),
        (lambda v: cells.money(v, decimal_comma=False), "1e400"),
        (lambda v: cells.whole_number(v), "1.5"),
        (lambda v: cells.whole_number(v), "99999999999"),
        (lambda v: cells.whole_number(v), "1e999999999"),
        (lambda v: cells.date(v), "31/01/2027"),
        (lambda v: cells.boolean(v), "maybe"),
        (lambda v: cells.text(v, max_length=3), "abcd"),
        (lambda v: cells.text(v, max_length=30), "a\x00b"),
    ],
)
def test_cells_that_cannot_be_the_value_are_refused(reader, value):
    with pytest.raises(cells.CellError):
        reader(value)


def test_a_semicolon_file_is_told_from_a_comma_one():
    assert open_sheet(b"\xef\xbb\xbfsku;name;price\r\nA;B;1,5\r\n").header == [
        "sku", "name", "price",
    ]  # fmt: skip
    with pytest.raises(FileRefused):
        open_sheet(b"   \n")
