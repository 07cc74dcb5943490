"""Importing products in a real browser (issue 24): a manager opens "Import products" from the
product list, uploads a spreadsheet, reads the dry run's errors by row in a table, uploads the
corrected file, and imports the checked file; the products are then in the list."""

import pytest

from inventory.models import Product
from stock.models import StockMovement
from tests.imports.files import csv_bytes
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser

HEADER = ["sku", "name", "price", "cost_price", "quantity", "category_name"]


@pytest.fixture
def mike(manager_user):
    manager_user.admin_access = True
    manager_user.save(update_fields=["admin_access"])
    return manager_user


def choose_file(page, rows):
    page.set_input_files(
        "#id_file",
        files=[{"name": "shop.csv", "mimeType": "text/csv",
                "buffer": csv_bytes(rows, header=HEADER, delimiter=";")}],
    )  # fmt: skip


def table(page, selector):
    return page.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
    )


def test_a_dry_run_shows_the_errors_by_row_then_the_checked_file_is_imported(
    page, mike, organization
):
    sign_in(page, "mike")
    page.goto("/admin/inventory/product/")
    page.click("#import-products")
    page.wait_for_selector("#id_file")

    choose_file(page, [["JAM", "Jam", "3,20", "1,10", "12", "Pantry"],
                       ["HONEY", "", "lots", "", "2", "Pantry"]])  # fmt: skip
    page.click("#dry-run")
    page.wait_for_selector("#import-result")
    assert page.inner_text("#import-status") == "failed"
    errors = table(page, "table.import-errors")
    assert sorted((row, column) for row, column, _ in errors) == [
        ("2", "category_name"), ("3", "category_name"), ("3", "name"), ("3", "price"),
    ]  # fmt: skip
    assert all(message for _, _, message in errors)
    assert not Product.objects.exists()

    page.check("#id_create_missing")
    choose_file(page, [["JAM", "Jam", "3,20", "1,10", "12", "Pantry"],
                       ["HONEY", "Honey", "5,00", "", "2", "Pantry"]])  # fmt: skip
    page.click("#dry-run")
    page.wait_for_selector("#import-checked")
    assert page.inner_text("#import-status") == "checked"
    assert page.inner_text("#import-created") == "2"
    assert not Product.objects.exists()

    page.click("#import-checked")
    page.wait_for_selector("#import-result")
    assert page.inner_text("#import-status") == "done"
    jam = Product.objects.get(organization=organization, sku="JAM")
    assert (str(jam.price), jam.quantity, jam.category.name) == ("3.20", 12, "Pantry")
    assert StockMovement.objects.get(product=jam).source == "import"

    page.click("a:text('Back to the products')")
    page.wait_for_selector("#result_list")
    assert "JAM" in page.inner_text("#result_list") and "HONEY" in page.inner_text("#result_list")
    assert page.errors == []
