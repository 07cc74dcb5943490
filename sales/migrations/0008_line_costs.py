"""Fulfilled sales lines record their unit cost and cost of goods sold. Lines fulfilled before
costs were kept get the product's cost_price, else 0 (the cost their movements record)."""

from django.db import migrations, models

import core.fields


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0012_average_cost"),
        ("sales", "0007_customer_returns"),
    ]

    operations = [
        migrations.AddField(
            model_name="salesorderitem",
            name="unit_cost",
            field=core.fields.cost_field(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="salesorderitem",
            name="line_cost",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=30, null=True),
        ),
        migrations.RunSQL(
            "UPDATE sales_salesorderitem SET unit_cost = COALESCE(("
            "SELECT cost_price FROM inventory_product"
            " WHERE inventory_product.id = sales_salesorderitem.product_id), 0)"
            " WHERE order_id IN (SELECT id FROM sales_salesorder WHERE status = 'fulfilled')",
            migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            "UPDATE sales_salesorderitem SET line_cost = quantity * unit_cost"
            " WHERE unit_cost IS NOT NULL",
            migrations.RunSQL.noop,
        ),
    ]
