"""The low-stock outbox moves into core's one outbox (core.events): crossings written before
the upgrade and not applied by the alerts yet become `stock.low` / `stock.recovered` events."""

import uuid

from django.db import migrations


def move_into_the_outbox(apps, schema_editor):
    LowStockEvent = apps.get_model("stock", "LowStockEvent")
    Event = apps.get_model("core", "Event")
    Event.objects.bulk_create(
        Event(
            uuid=uuid.uuid4(),
            organization_id=event.organization_id,
            type="stock.low" if event.kind == "went_low" else "stock.recovered",
            data={
                "product": event.product_id,
                "sku": event.product.sku,
                "quantity": event.quantity,
                "available": event.quantity,
                "low_stock_threshold": event.low_stock_threshold,
            },
            created_at=event.created_at,
            txid=0,
        )
        for event in LowStockEvent.objects.select_related("product").order_by("id")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0010_movement_sales_index"),
        ("core", "0004_event_outbox_and_audit_trail"),
    ]

    operations = [
        migrations.RunPython(move_into_the_outbox, migrations.RunPython.noop),
        migrations.DeleteModel(name="LowStockEvent"),
    ]
