"""POST /api/imports/ with real files (API.md, Imports): CSV in both dialects and XLSX, every
error at once, all or nothing, the dry run, the round trip of the product export, the modes,
the refusals (400, 413), roles and tenancy."""

from decimal import Decimal

import pytest

from imports.models import ImportJob
from inventory.models import Category, Product
from stock.models import StockMovement
from suppliers.models import Supplier
from tests.factories import CategoryFactory, ProductFactory, SupplierFactory
from tests.imports.files import csv_bytes, post_import, xlsx_bytes

pytestmark = pytest.mark.django_db

URL = "/api/imports/"


def real_run(client, data, **options):
    options.setdefault("dry_run", False)
    return post_import(client, data, **options)


def test_a_csv_creates_products_with_their_opening_stock_through_the_ledger(
    manager_client, organization, manager_user, ledger_stays_true
):
    data = csv_bytes(
        [
            ["MILK-1L", "Milk 1 L", "1.20", "0.80", "24", "Dairy", "Farm Co"],
            ["EGGS-6", "Eggs (6)", "2.50", "", "0", "Dairy", ""],
        ],
        bom=True,
    )
    response = real_run(manager_client, data, create_missing=True)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "done" and body["dry_run"] is False
    assert (body["total_rows"], body["processed_rows"]) == (2, 2)
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0)
    assert body["errors"] == [] and body["created_by"] == "mike"
    assert body["file_name"] == "products.csv" and body["finished_at"]
    milk = Product.objects.get(organization=organization, sku="MILK-1L")
    assert (milk.quantity, milk.price, milk.cost_price) == (24, Decimal("1.20"), Decimal("0.80"))
    assert milk.average_cost == Decimal("0.8000")
    assert milk.category.name == "Dairy" and milk.supplier.name == "Farm Co"
    (movement,) = StockMovement.objects.filter(product=milk)
    assert (movement.movement_type, movement.source, movement.delta) == ("IN", "import", 24)
    assert movement.unit_cost == Decimal("0.8000") and movement.performed_by == manager_user
    assert movement.location.is_default
    eggs = Product.objects.get(organization=organization, sku="EGGS-6")
    assert eggs.quantity == 0 and not StockMovement.objects.filter(product=eggs).exists()
    assert Category.objects.filter(organization=organization).count() == 1


def test_a_semicolon_file_may_write_decimals_with_a_comma(manager_client, organization):
    data = csv_bytes([["TEA", "Tea", "4,50", "2,25", "3", "", ""]], delimiter=";")
    response = real_run(manager_client, data)
    assert response.json()["status"] == "done", response.json()
    tea = Product.objects.get(organization=organization, sku="TEA")
    assert (tea.price, tea.cost_price, tea.quantity) == (Decimal("4.50"), Decimal("2.25"), 3)


def test_an_xlsx_workbook_is_read_and_formula_looking_cells_are_stored_as_text(
    manager_client, organization
):
    category = CategoryFactory(organization=organization, name="Bakery")
    data = xlsx_bytes(
        [
            ["BREAD", '=HYPERLINK("http://evil")', 2.5, 1, 7, "bakery", None],
            ["ROLL", "Roll", 0.4, None, None, None, None],
        ]
    )
    response = real_run(manager_client, data, name="products.xlsx")
    assert response.json()["status"] == "done", response.json()
    bread = Product.objects.get(organization=organization, sku="BREAD")
    assert bread.name == '=HYPERLINK("http://evil")'  # text, never evaluated
    assert (bread.price, bread.cost_price, bread.quantity) == (Decimal("2.50"), Decimal("1.00"), 7)
    assert bread.category == category  # names match whatever their case
    export = b"".join(manager_client.get("/api/products/export/").streaming_content).decode()
    assert "'=HYPERLINK" in export  # the export's guard keeps it harmless on the way out


def test_every_rows_errors_are_reported_at_once_and_nothing_is_written(
    manager_client, organization
):
    ProductFactory(organization=organization, sku="TAKEN", barcode="111")
    header = ["sku", "name", "price", "quantity", "category_name", "barcode"]
    data = csv_bytes(
        [
            ["OK-1", "Fine", "1.00", "1", "", ""],
            ["BAD-PRICE", "Bad", "abc", "1", "", ""],
            ["", "No SKU", "1.00", "", "", ""],
            ["NO-NAME", "", "1.00", "-3", "", ""],
            ["ok-1", "Twice", "1.00", "", "", ""],
            ["CAT", "Cat", "1.00", "", "Nowhere", ""],
            ["CODE", "Code", "1.005", "", "", "111"],
        ],
        header=header,
    )
    response = real_run(manager_client, data)

    body = response.json()
    assert response.status_code == 201 and body["status"] == "failed"
    problems = {(e["row"], e["column"]) for e in body["errors"]}
    assert problems == {
        (3, "price"),
        (4, "sku"),
        (5, "quantity"),  # -3
        (5, "name"),  # a row's every error, not only its first
        (6, "sku"),  # ok-1: OK-1 is on row 2
        (7, "category_name"),
        (8, "price"),
        (8, "barcode"),  # TAKEN's
    }
    assert all(e["message"] for e in body["errors"])
    assert (body["created"], body["updated"]) == (0, 0)
    skus = Product.objects.filter(organization=organization).values_list("sku", flat=True)
    assert list(skus) == ["TAKEN"]


def test_a_real_run_with_one_bad_row_writes_none_and_a_rerun_never_duplicates(
    manager_client, organization
):
    rows = [[f"P-{n}", f"Product {n}", "1.00", "", "5", "", ""] for n in range(5)]
    bad = [*rows[:4], ["P-4", "Product 4", "-1", "", "5", "", ""]]
    assert real_run(manager_client, csv_bytes(bad)).json()["status"] == "failed"
    assert not Product.objects.filter(organization=organization).exists()
    assert not StockMovement.objects.filter(organization=organization).exists()

    assert real_run(manager_client, csv_bytes(rows)).json()["created"] == 5
    again = real_run(manager_client, csv_bytes(rows)).json()
    assert (again["status"], again["created"], again["unchanged"]) == ("done", 0, 5)
    assert Product.objects.filter(organization=organization).count() == 5
    assert sum(Product.objects.values_list("quantity", flat=True)) == 25  # stock once


def test_a_dry_run_checks_everything_and_writes_nothing(manager_client, organization):
    data = csv_bytes([["A", "Apple", "1.00", "0.50", "3", "Fruit", "Orchard"]])
    response = post_import(manager_client, data, create_missing=True)  # dry_run defaults to true
    body = response.json()
    assert (body["status"], body["dry_run"], body["created"]) == ("checked", True, 1)
    assert not Product.objects.exists() and not Category.objects.exists()
    assert not Supplier.objects.exists() and not StockMovement.objects.exists()
    assert real_run(manager_client, data, create_missing=True).json()["status"] == "done"
    assert Product.objects.get().quantity == 3


def test_upsert_updates_by_sku_whatever_its_case_and_never_sets_stock(
    manager_client, organization, stocked
):
    milk = stocked(quantity=10, organization=organization, sku="MILK", name="Milk", price="1.00")
    data = csv_bytes(
        [["milk", "Whole milk", "1.10", "", "99", "", ""]],
        header=["sku", "name", "price", "cost_price", "quantity", "category_name", "colour"],
    )
    body = real_run(manager_client, data).json()
    assert (body["status"], body["updated"], body["created"]) == ("done", 1, 0)
    milk.refresh_from_db()
    assert (milk.name, milk.price, milk.quantity) == ("Whole milk", Decimal("1.10"), 10)
    warned = {(w["row"], w["column"]) for w in body["warnings"]}
    assert warned == {(2, "quantity"), (1, "colour")}  # the ignored column, the stock kept
    assert StockMovement.objects.filter(product=milk).count() == 1


def test_modes_create_and_update(manager_client, organization):
    ProductFactory(organization=organization, sku="OLD")
    rows = [["OLD", "Old", "1.00"], ["NEW", "New", "1.00"]]
    data = csv_bytes(rows, header=["sku", "name", "price"])
    created = real_run(manager_client, data, mode="create").json()
    assert created["status"] == "failed"
    assert [(e["row"], e["column"]) for e in created["errors"]] == [(2, "sku")]
    updated = real_run(manager_client, data, mode="update").json()
    assert updated["status"] == "failed"
    assert [(e["row"], e["column"]) for e in updated["errors"]] == [(3, "sku")]
    assert not Product.objects.filter(sku="NEW").exists()


def test_an_export_imported_back_unchanged_reports_every_row_unchanged(
    manager_client, organization, stocked
):
    dairy = CategoryFactory(organization=organization, name="Dairy")
    farm = SupplierFactory(organization=organization, name="Farm")
    stocked(quantity=4, organization=organization, sku="MILK", name="=1+1 milk", price="1.25",
            cost_price="0.60", category=dairy, supplier=farm, barcode="4006381333931",
            description="Fresh; \"whole\"\nline two", low_stock_threshold=3)  # fmt: skip
    ProductFactory(organization=organization, sku="LOTS", track_lots=True)
    ProductFactory(organization=organization, sku="PLAIN", expiration_date="2027-01-31")
    export = b"".join(manager_client.get("/api/products/export/").streaming_content)

    body = real_run(manager_client, export, name="products-2026-12-05.csv").json()
    assert body["status"] == "done", body["errors"]
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 3)
    assert {w["row"] for w in body["warnings"]} == {1}  # the export's read-only columns only

    edited = export.replace(b"1.25", b"1.35")
    body = real_run(manager_client, edited).json()
    assert (body["updated"], body["unchanged"]) == (1, 2)
    assert Product.objects.get(sku="MILK").price == Decimal("1.35")


def test_a_threshold_raised_by_an_import_is_a_low_stock_crossing(manager_client, stocked,
                                                                 organization):  # fmt: skip
    from core.models import Event

    stocked(quantity=5, organization=organization, sku="S", low_stock_threshold=1)
    data = csv_bytes([["S", "S", "1.00", "9"]], header=["sku", "name", "price",
                                                        "low_stock_threshold"])  # fmt: skip
    assert real_run(manager_client, data).json()["updated"] == 1
    assert Event.objects.filter(type="stock.low", data__sku="S").count() == 1


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "logo.png", "neither a CSV nor an .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls", "old Excel"),
        (b"PK\x03\x04garbage", "broken.xlsx", "neither a CSV nor an .xlsx"),
        ("sku,name,price\nA,Caf\xe9,1.00\n".encode("latin-1"), "latin.csv", "Row 2 is not UTF-8"),
        (b"code,title,price\nA,B,1\n", "wrong.csv", "sku, name"),
        (b"sku,price\nA,1\n", "noname.csv", "missing: name"),
        (b"", "empty.csv", "empty"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_400_with_the_reason_and_nothing_is_stored(
    manager_client, data, name, says
):
    response = post_import(manager_client, data or b" ", name=name, dry_run=False)
    assert response.status_code == 400, response.content
    assert says in response.json()["file"][0]
    assert not ImportJob.objects.exists()


def test_more_rows_than_import_max_rows_is_a_400(manager_client, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = [[f"S{n}", "n", "1"] for n in range(4)]
    response = post_import(manager_client, csv_bytes(rows, header=["sku", "name", "price"]))
    assert response.status_code == 400
    assert "more than 3 rows" in response.json()["file"][0]


def test_an_xlsx_over_the_unpacked_size_or_the_cell_cap_is_a_400(manager_client, settings):
    data = xlsx_bytes([["A", "Apple", 1, None, None, None, None]] * 20)
    settings.IMPORT_XLSX_MAX_UNCOMPRESSED = 2000
    response = post_import(manager_client, data, name="bomb.xlsx")
    assert response.status_code == 400 and "unpacks to" in response.json()["file"][0]
    settings.IMPORT_XLSX_MAX_UNCOMPRESSED = 10**9
    settings.IMPORT_MAX_CELLS = 50
    response = post_import(manager_client, data, name="wide.xlsx")
    assert response.status_code == 400 and "more than 50 cells" in response.json()["file"][0]
    assert not ImportJob.objects.exists()


def test_a_file_over_import_max_bytes_is_413_while_other_bodies_keep_their_limit(
    manager_client, settings
):
    description = "x" * 20_000
    rows = [[f"S{n}", "n", "1", description] for n in range(150)]  # about 3 MB
    data = csv_bytes(rows, header=["sku", "name", "price", "description"])
    assert len(data) > 2_621_440
    response = post_import(manager_client, data, dry_run=True)
    assert response.status_code == 201 and response.json()["status"] == "checked"

    settings.IMPORT_MAX_BYTES = 1_000_000
    settings.REQUEST_BODY_LIMITS = {URL: 1_000_000}
    response = post_import(manager_client, data)
    assert response.status_code == 413 and "detail" in response.json()
    assert ImportJob.objects.count() == 1
    json_body = manager_client.post("/api/categories/", {"name": "x" * 3_000_000}, format="json")
    assert json_body.status_code == 413


def test_bad_options_are_400(manager_client, other_organization):
    from stock.services import default_location

    data = csv_bytes([["A", "Apple", "1"]], header=["sku", "name", "price"])
    assert post_import(manager_client, data, mode="replace").status_code == 400
    assert post_import(manager_client, data, kind="orders").status_code == 400
    theirs = default_location(organization_id=other_organization.pk)
    response = post_import(manager_client, data, location=theirs.pk)
    assert response.status_code == 400 and "location" in response.json()
    assert manager_client.post(URL, {}, format="multipart").status_code == 400


def test_opening_stock_goes_to_the_location_named(manager_client, organization):
    from stock.models import StockLevel
    from stock.services import create_location

    back = create_location(organization=organization, name="Back room")
    data = csv_bytes([["A", "Apple", "1", "", "6", "", ""]])
    assert real_run(manager_client, data, location=back.pk).json()["status"] == "done"
    assert StockLevel.objects.get(product__sku="A").location == back


# --- roles, tenancy, reading ----------------------------------------------------------------


def test_admin_and_manager_only(sales_client, admin_client, api_client):
    data = csv_bytes([["A", "Apple", "1"]], header=["sku", "name", "price"])
    assert post_import(sales_client, data).status_code == 403
    assert sales_client.get(URL).status_code == 403
    assert post_import(api_client, data).status_code == 401
    assert post_import(admin_client, data).status_code == 201


def test_an_import_never_touches_another_organizations_data(
    manager_client, organization, other_organization, other_admin_client
):
    theirs = ProductFactory(organization=other_organization, sku="SHARED", name="Theirs")
    their_category = CategoryFactory(organization=other_organization, name="Dairy")
    data = csv_bytes([["SHARED", "Mine", "2.00", "", "1", "Dairy", ""]])
    body = real_run(manager_client, data, create_missing=True).json()
    assert (body["status"], body["created"]) == ("done", 1)
    theirs.refresh_from_db()
    assert (theirs.name, theirs.quantity) == ("Theirs", 0)
    mine = Product.objects.get(organization=organization, sku="SHARED")
    assert mine.category.organization == organization and mine.category != their_category

    assert other_admin_client.get(f"{URL}{body['id']}/").status_code == 404
    assert other_admin_client.get(URL).json()["count"] == 0
    assert manager_client.get(URL).json()["count"] == 1


def test_the_list_is_newest_first_in_constant_queries(
    manager_client, django_assert_max_num_queries
):
    data = csv_bytes([["A", "Apple", "1"]], header=["sku", "name", "price"])
    ids = [post_import(manager_client, data).json()["id"] for _ in range(3)]
    with django_assert_max_num_queries(8):
        body = manager_client.get(URL).json()
    assert [job["id"] for job in body["results"]] == ids[::-1]
    with django_assert_max_num_queries(8):
        detail = manager_client.get(f"{URL}{ids[0]}/").json()
    assert detail["status"] == "checked" and detail["errors"] == []
    assert manager_client.put(f"{URL}{ids[0]}/", {}).status_code == 405
