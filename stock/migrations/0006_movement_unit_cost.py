"""Every movement records what each unit cost. Movements made before costs were kept get the
product's cost_price, else 0: the average cost their stock is given (inventory 0012)."""

from django.db import migrations

import core.fields


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0012_average_cost"),
        ("stock", "0005_every_movement_has_a_location"),
    ]

    operations = [
        migrations.AddField(
            model_name="stockmovement",
            name="unit_cost",
            field=core.fields.cost_field(null=True),
        ),
        migrations.RunSQL(
            "UPDATE stock_stockmovement SET unit_cost = COALESCE(("
            "SELECT cost_price FROM inventory_product"
            " WHERE inventory_product.id = stock_stockmovement.product_id), 0)",
            migrations.RunSQL.noop,
        ),
    ]
