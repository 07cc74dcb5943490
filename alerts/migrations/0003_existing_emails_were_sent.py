"""Existing logs were all sent (they were written after the send): `sent_at = created_at`.
Their kinds take the API's names (`digest`, `crossing`); a digest's day is its creation's, and
an earlier one's repeats the same day stay, as forced ones."""

from django.db import migrations
from django.db.models import F


def forwards(apps, schema_editor):
    AlertLog = apps.get_model("alerts", "AlertLog")
    AlertLog.objects.filter(kind="daily_digest").update(kind="digest")
    AlertLog.objects.filter(kind="low_stock").update(kind="crossing")
    AlertLog.objects.update(sent_at=F("created_at"))
    for log in AlertLog.objects.filter(kind="digest").order_by("id").iterator():
        log.digest_date = log.created_at.date()
        # An earlier repeat on the same day stays, as a forced one.
        log.forced = AlertLog.objects.filter(
            organization_id=log.organization_id,
            kind="digest",
            digest_date=log.digest_date,
            forced=False,
        ).exists()
        log.save(update_fields=["digest_date", "forced"])


def backwards(apps, schema_editor):
    AlertLog = apps.get_model("alerts", "AlertLog")
    AlertLog.objects.filter(sent_at__isnull=True).delete()
    AlertLog.objects.filter(kind="digest").update(kind="daily_digest")
    AlertLog.objects.filter(kind="crossing").update(kind="low_stock")


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_outbox_and_written_emails")]

    operations = [migrations.RunPython(forwards, backwards)]
