from django.db import migrations, models

import core.fields


class Migration(migrations.Migration):
    dependencies = [("stock", "0006_movement_unit_cost")]  # apart: no ALTER after an UPDATE

    operations = [
        migrations.AlterField(
            model_name="stockmovement",
            name="unit_cost",
            field=core.fields.cost_field(),
        ),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(("unit_cost__gte", 0)), name="stock_movement_unit_cost_gte_0"
            ),
        ),
    ]
