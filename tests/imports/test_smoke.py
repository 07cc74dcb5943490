import pytest

from inventory.models import Product
from tests.imports.files import csv_bytes, post_import


@pytest.mark.django_db
def test_smoke(manager_client, organization):
    data = csv_bytes([["A-1", "Apple", "1.50", "0.70", "10", "Fruit", ""]])
    r = post_import(manager_client, data, dry_run=False, create_missing=True)
    print(r.json())
    assert r.status_code == 201
    p = Product.objects.get(sku="A-1")
    assert p.quantity == 10
