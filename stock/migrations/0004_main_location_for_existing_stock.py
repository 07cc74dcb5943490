"""Stock that existed before locations moves into one: every organization gets its default
location `Main`, every product's stock becomes its level there, and every movement of the
ledger happened there. No organization or product is left out, so the three invariants hold
from the start (product == levels == ledger; per location; no lots yet)."""

from django.db import migrations
from django.db.models import Count


def into_main(apps, schema_editor):
    Organization = apps.get_model("users", "Organization")
    Location = apps.get_model("stock", "Location")
    StockLevel = apps.get_model("stock", "StockLevel")
    StockMovement = apps.get_model("stock", "StockMovement")
    Product = apps.get_model("inventory", "Product")
    for organization in Organization.objects.order_by("pk").iterator():
        main = Location.objects.filter(organization=organization, is_default=True).first()
        if main is None:
            main = Location.objects.create(organization=organization, name="Main", is_default=True)
        StockMovement.objects.filter(organization=organization, location__isnull=True).update(
            location=main
        )
        products = Product.objects.filter(organization=organization, quantity__gt=0)
        rows = products.order_by("pk").values_list("pk", "quantity")
        batch = []
        for product_id, quantity in rows.iterator(chunk_size=5000):
            batch.append(
                StockLevel(
                    organization=organization,
                    product_id=product_id,
                    location=main,
                    quantity=quantity,
                )
            )
            if len(batch) >= 5000:
                StockLevel.objects.bulk_create(batch)
                batch = []
        StockLevel.objects.bulk_create(batch)
    left = StockMovement.objects.filter(location__isnull=True).aggregate(n=Count("pk"))["n"]
    if left:
        raise RuntimeError(f"{left} movement(s) belong to no organization's location.")


def out_of_main(apps, schema_editor):
    apps.get_model("stock", "StockLevel").objects.all().delete()
    apps.get_model("stock", "StockMovement").objects.update(location=None)
    apps.get_model("stock", "Location").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0003_locations_lots_levels"),
        ("inventory", "0010_track_lots_and_allocated"),
        ("users", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(into_main, out_of_main)]
