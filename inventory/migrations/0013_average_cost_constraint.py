from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0012: PostgreSQL alters no table with pending trigger events of an UPDATE."""

    dependencies = [("inventory", "0012_average_cost")]

    operations = [
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(("average_cost__gte", 0)),
                name="inventory_product_average_cost_gte_0",
            ),
        ),
    ]
