"""The admin's "Import products" page (upload, dry run showing the errors by row, then
import), reached from the product list, through the same service as the API: for the
organization's staff and for superusers alike, scoped like the rest of the admin."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportJob
from inventory.models import Product
from tests.factories import OrganizationFactory, UserFactory
from tests.imports.files import csv_bytes

pytestmark = pytest.mark.django_db

UPLOAD = "/admin/imports/importjob/upload/"
HEADER = ["sku", "name", "price", "quantity"]


def upload(client, rows, *, button="_dry_run", **fields):
    data = SimpleUploadedFile("shop.csv", csv_bytes(rows, header=HEADER))
    return client.post(UPLOAD, {"file": data, "mode": "upsert", button: "1", **fields})


def test_the_product_list_links_to_the_import_page(manager):
    page = manager.get(reverse("admin:inventory_product_changelist")).content.decode()
    assert f'href="{UPLOAD}"' in page and "Import products" in page
    assert reverse("admin:imports_importjob_upload") == UPLOAD


def test_a_dry_run_shows_the_errors_by_row_then_a_checked_file_is_imported(manager, organization):
    response = upload(manager, [["A", "Apple", "1.00", "2"], ["B", "", "x", "1"]])
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="import-errors"' in page
    assert "<td>3</td><td>price</td>" in page and "<td>3</td><td>name</td>" in page
    assert not Product.objects.exists()

    response = upload(manager, [["A", "Apple", "1.00", "2"], ["B", "Banana", "0.50", "1"]])
    job = response.context["job"]
    assert job.status == "checked" and 'id="import-checked"' in response.content.decode()
    assert not Product.objects.exists()

    response = manager.post(UPLOAD, {"from_job": str(job.pk), "_import": "1"})
    done = response.context["job"]
    assert (done.status, done.created, done.dry_run) == ("done", 2, False)
    assert Product.objects.filter(organization=organization).count() == 2
    assert Product.objects.get(sku="A").quantity == 2


def test_a_file_that_cannot_be_read_is_a_form_error(manager):
    bad = SimpleUploadedFile("x.csv", b"title,price\nA,1\n")
    response = manager.post(UPLOAD, {"file": bad, "mode": "upsert", "_dry_run": "1"})
    assert response.context["form"].errors["file"]
    assert not ImportJob.objects.exists()


def test_a_superuser_imports_into_the_organization_chosen(client, organization):
    root = UserFactory(username="root", organization=None, is_staff=True, is_superuser=True)
    client.force_login(root)
    rows = [["A", "Apple", "1.00", "2"]]
    assert "organization" in upload(client, rows).context["form"].errors
    response = upload(client, rows, button="_import", organization=organization.pk)
    assert response.context["job"].status == "done"
    assert Product.objects.get().organization == organization


def test_staff_see_and_reuse_only_their_organizations_imports(manager, organization):
    other = OrganizationFactory()
    data = csv_bytes([["Z", "Z", "1", "1"]], header=HEADER)
    theirs = ImportJob.objects.create(
        organization=other, file_name="theirs.csv", file_format="csv", status="checked", data=data
    )
    page = manager.get(reverse("admin:imports_importjob_changelist")).content.decode()
    assert "theirs.csv" not in page
    their_page = manager.get(reverse("admin:imports_importjob_change", args=[theirs.pk]))
    assert their_page.status_code in (302, 404)
    response = manager.post(UPLOAD, {"from_job": str(theirs.pk), "_import": "1"})
    assert "That dry run is gone" in response.content.decode()
    assert not Product.objects.exists()


def test_the_import_page_needs_the_permission(client, organization):
    sales = UserFactory(organization=organization, role="sales", is_staff=True)
    sales.admin_access = True
    sales.save()
    client.force_login(sales)
    assert client.get(UPLOAD).status_code in (302, 403)
