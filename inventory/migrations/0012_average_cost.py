"""Products keep a moving-average cost (API.md, Valuation). Existing stock is valued at the
product's cost_price, else 0 (README, "Valuation")."""

from decimal import Decimal

from django.db import migrations

import core.fields


class Migration(migrations.Migration):
    dependencies = [("inventory", "0011_low_stock_on_available")]

    operations = [
        migrations.AddField(
            model_name="product",
            name="average_cost",
            field=core.fields.cost_field(default=Decimal("0")),
        ),
        migrations.RunSQL(
            "UPDATE inventory_product SET average_cost = cost_price WHERE cost_price IS NOT NULL",
            migrations.RunSQL.noop,
        ),
    ]
