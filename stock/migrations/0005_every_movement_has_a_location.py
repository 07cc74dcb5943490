import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("stock", "0004_main_location_for_existing_stock")]

    operations = [
        migrations.AlterField(
            model_name="stockmovement",
            name="location",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="movements",
                to="stock.location",
            ),
        ),
    ]
