"""A customer return's lines record the cost their sale recorded (the sales line's unit_cost)
and quantity * unit_cost: restocked, that cost of goods is undone in the reports (API.md,
Reports). Lines recorded before get their sales line's. (The constraint comes in the next
migration: PostgreSQL alters no table with updates of its own transaction pending.)"""

from django.db import migrations, models

import core.fields


class Migration(migrations.Migration):
    dependencies = [("sales", "0009_line_cost_constraint")]

    operations = [
        migrations.AddField(
            model_name="customerreturnline",
            name="unit_cost",
            field=core.fields.cost_field(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="customerreturnline",
            name="line_cost",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=30, null=True),
        ),
        migrations.RunSQL(
            "UPDATE sales_customerreturnline SET unit_cost = ("
            "SELECT unit_cost FROM sales_salesorderitem"
            " WHERE sales_salesorderitem.id = sales_customerreturnline.item_id)",
            migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            "UPDATE sales_customerreturnline SET line_cost = quantity * unit_cost"
            " WHERE unit_cost IS NOT NULL",
            migrations.RunSQL.noop,
        ),
    ]
