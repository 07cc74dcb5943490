from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0008: PostgreSQL alters no table with pending trigger events of an UPDATE."""

    dependencies = [("sales", "0008_line_costs")]

    operations = [
        migrations.AddConstraint(
            model_name="salesorderitem",
            constraint=models.CheckConstraint(
                condition=models.Q(("unit_cost__isnull", True))
                | models.Q(("line_cost__gte", 0), ("unit_cost__gte", 0)),
                name="sales_item_cost_gte_0",
            ),
        ),
    ]
