"""The services an import writes through: stock's bulk entry for opening stock (one IN each,
through the books, the ledger true), and the reading of cells and files."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import OperationalError, connection

import core.audit
import core.bulk
import core.events
from core.errors import BrokenRule
from core.models import AuditEntry, Event
from imports import cells, jobs, services
from imports.models import ImportJob
from imports.reading import FileRefused, open_sheet
from inventory.models import Product
from inventory.services import ProductFields
from stock import services as stock_services
from stock.models import StockLevel, StockMovement
from stock.services import InvalidStockChange, create_products_with_stock, record_opening_stock
from tests.factories import OrganizationFactory, ProductFactory, UserFactory
from tests.imports.files import csv_bytes
from tests.support.bulk import copied_tables

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


# --- Large imports: COPY on PostgreSQL (core.bulk.insert_rows, copy_rows) -------------------------

BIG_HEADER = [
    "sku",
    "name",
    "price",
    "cost_price",
    "quantity",
    "category_name",
    "low_stock_threshold",
]


def big_file(rows: int = 150) -> bytes:
    """More rows than core.bulk.COPY_AT_LEAST: products, events and audit rows go by COPY."""
    return csv_bytes(
        [
            [f"BIG-{n:03d}", f"Big {n}", f"{n % 7 + 1}.50", "" if n % 5 == 0 else f"{n % 3}.25",
             n % 4, f"Shelf {n % 3}", n % 6]
            for n in range(rows)
        ],
        header=BIG_HEADER,
    )  # fmt: skip


def copy_from(monkeypatch, rows: int) -> list[str]:
    """COPY from `rows` rows on; returns the tables written by COPY from now on."""
    for module in (core.bulk, core.events):  # (core.audit writes through core.bulk)
        monkeypatch.setattr(module, "COPY_AT_LEAST", rows)
    return copied_tables(monkeypatch)


def what_the_import_wrote(organization) -> dict:
    """Everything an import writes, without ids and times (which differ between two imports)."""
    products = Product.objects.filter(organization=organization).order_by("sku")
    ids = dict(products.values_list("pk", "sku"))

    def without_ids(data: dict) -> dict:
        return {k: v for k, v in data.items() if k not in ("id", "product", "movement", "location")}

    return {
        "products": list(products.values_list(
            "sku", "name", "price", "cost_price", "quantity", "allocated", "average_cost",
            "category__name", "supplier_id", "low_stock_threshold", "track_lots", "is_archived",
        )),
        "movements": list(StockMovement.objects.filter(organization=organization)
                          .order_by("product__sku").values_list(
            "product__sku", "movement_type", "quantity", "delta", "balance_after", "unit_cost",
            "source", "reference", "performed_by_id", "location__is_default",
        )),
        "levels": list(StockLevel.objects.filter(organization=organization)
                       .order_by("product__sku").values_list(
            "product__sku", "location__is_default", "lot_id", "quantity", "allocated",
        )),
        "events": sorted(
            (event.type, json.dumps(without_ids(event.data), sort_keys=True))
            for event in Event.objects.filter(organization_id=organization.pk)
        ),
        "audit": sorted(
            (entry.action, ids[entry.object_id], entry.object_repr, entry.username,
             json.dumps(entry.changes, sort_keys=True))
            for entry in AuditEntry.objects.filter(organization_id=organization.pk,
                                                   object_type="product")
        ),
    }  # fmt: skip


def test_a_large_import_writes_by_copy_exactly_what_inserts_write(
    monkeypatch, manager_user, ledger_stays_true
):
    written = []
    for copy_at_least in (core.bulk.COPY_AT_LEAST, 10**9):  # COPY (on PostgreSQL), then INSERTs
        copied = copy_from(monkeypatch, copy_at_least)
        organization = OrganizationFactory()
        user = UserFactory(organization=organization, username=f"u{copy_at_least}")
        job = jobs.start_import(organization=organization, user=user, file_name="p.csv",
                                data=big_file(), dry_run=False, create_missing=True)  # fmt: skip
        assert (job.status, job.created) == ("done", 150), job.errors
        by_copy = {"inventory_product", "stock_stockmovement", "core_event", "core_auditentry"}
        if copy_at_least < 10**9 and connection.vendor == "postgresql":
            assert by_copy <= set(copied)
        else:
            assert copied == []
        txids = set(
            Event.objects.filter(organization_id=organization.pk).values_list("txid", flat=True)
        )
        assert len(txids) == 1  # the import's (import.done by INSERT too), as the outbox reads it
        wrote = what_the_import_wrote(organization)
        assert {movement[8] for movement in wrote["movements"]} == {user.pk}
        wrote["movements"] = [movement[:8] + movement[9:] for movement in wrote["movements"]]
        written.append(wrote)
    by_copy, by_insert = written
    assert len(by_copy["products"]) == 150 and len(by_copy["movements"]) == 112
    assert len(by_copy["events"]) == 150 + 112 + 1 and len(by_copy["audit"]) == 150
    assert by_copy["movements"][0][:7] == ("BIG-001", "IN", 1, 1, 1, Decimal("1.2500"), "import")
    for part in ("products", "movements", "levels", "events"):
        assert by_copy[part] == by_insert[part], part
    assert [entry[:3] + entry[4:] for entry in by_copy["audit"]] == [
        entry[:3] + entry[4:] for entry in by_insert["audit"]
    ]


def test_a_large_import_whose_worker_dies_midway_writes_nothing_and_its_rerun_creates_each_once(
    monkeypatch, organization, manager_user, ledger_stays_true
):
    monkeypatch.setattr(services, "CHUNK_ROWS", 100)  # two chunks: the first goes by COPY
    writes = []
    create = stock_services.create_products_with_stock

    def dies_at_the_second_chunk(**options):
        writes.append(create(**options))
        if len(writes) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return writes[-1]

    monkeypatch.setattr(stock_services, "create_products_with_stock", dies_at_the_second_chunk)
    with pytest.raises(OperationalError):
        jobs.start_import(organization=organization, user=manager_user, file_name="p.csv",
                          data=big_file(), dry_run=False, create_missing=True)  # fmt: skip
    assert [len(created) for created in writes] == [100, 50]
    job = ImportJob.objects.get()
    assert job.status == "running"  # the sweep queues it again
    assert not Product.objects.exists() and not StockMovement.objects.exists()
    assert not Event.objects.exists() and not AuditEntry.objects.exists()

    monkeypatch.setattr(stock_services, "create_products_with_stock", create)
    rerun = services.run_import(job_id=job.pk)
    assert (rerun.status, rerun.created, rerun.attempts) == ("done", 150, 2), rerun.errors
    skus = list(Product.objects.values_list("sku", flat=True))
    assert len(skus) == len(set(skus)) == 150
    assert StockMovement.objects.count() == 112
    assert Event.objects.filter(type="product.created").count() == 150
