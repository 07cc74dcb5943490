from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sales", "0010_customer_return_line_costs")]

    operations = [
        migrations.AddConstraint(
            model_name="customerreturnline",
            constraint=models.CheckConstraint(
                condition=models.Q(unit_cost__isnull=True)
                | models.Q(unit_cost__gte=0, line_cost__gte=0),
                name="sales_return_line_cost_gte_0",
            ),
        ),
    ]
