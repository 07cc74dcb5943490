from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [("alerts", "0003_existing_emails_were_sent")]

    operations = [
        migrations.AddConstraint(
            model_name="alertlog",
            constraint=models.UniqueConstraint(
                condition=Q(kind="digest", forced=False),
                fields=("organization", "digest_date"),
                name="alerts_one_digest_per_organization_and_day",
            ),
        ),
    ]
