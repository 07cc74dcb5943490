import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sales", "0004_order_location")]

    operations = [
        migrations.AlterField(
            model_name="salesorder",
            name="location",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="stock.location"
            ),
        ),
    ]
