"""Migrations tested as an operator meets them: from the state before, with data, forward."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_CI_SKUS = ("inventory", "0006_product_list_indexes")
CI_SKUS = ("inventory", "0007_sku_case_insensitive_barcode_archived_at")


def migrate_to(*targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(list(targets))
    return executor.loader.project_state(list(targets)).apps


def latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_skus_that_differ_only_in_case_are_reported_not_renamed():
    apps = migrate_to(BEFORE_CI_SKUS)
    try:
        organization = apps.get_model("users", "Organization").objects.create(name="Dairy")
        Product = apps.get_model("inventory", "Product")
        first = Product.objects.create(organization=organization, sku="MILK-1L", name="A", price=1)
        second = Product.objects.create(organization=organization, sku="milk-1l", name="B", price=1)

        with pytest.raises(RuntimeError) as report:
            migrate_to(CI_SKUS)
        assert f"'MILK-1L' (product {first.pk})" in str(report.value)
        assert f"'milk-1l' (product {second.pk})" in str(report.value)
        assert sorted(Product.objects.values_list("sku", flat=True)) == ["MILK-1L", "milk-1l"]

        Product.objects.filter(pk=second.pk).update(sku="MILK-1L-B")  # the operator fixes it
        apps = migrate_to(CI_SKUS)
        Product = apps.get_model("inventory", "Product")
        assert sorted(Product.objects.values_list("sku", flat=True)) == ["MILK-1L", "MILK-1L-B"]
    finally:
        migrate_to(*latest())
