"""Crossings come from the ledger's outbox; emails are written before they are sent.

Existing logs were all sent (they were written after the send): `sent_at = created_at`.
Their kinds take the API's names (`digest`, `crossing`).
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, Q


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
    dependencies = [("alerts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="alertlog", name="body_text", field=models.TextField(blank=True)
        ),
        migrations.AddField(
            model_name="alertlog", name="body_html", field=models.TextField(blank=True)
        ),
        migrations.AddField(
            model_name="alertlog", name="digest_date", field=models.DateField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="alertlog", name="forced", field=models.BooleanField(default=False)
        ),
        migrations.AddField(
            model_name="alertlog",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="alertlog", name="attempts", field=models.PositiveIntegerField(default=0)
        ),
        migrations.AddField(
            model_name="alertlog",
            name="next_attempt_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="alertlog",
            name="kind",
            field=models.CharField(
                choices=[("digest", "Daily digest"), ("crossing", "Low-stock crossing")],
                max_length=20,
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddConstraint(
            model_name="alertlog",
            constraint=models.UniqueConstraint(
                condition=Q(kind="digest", forced=False),
                fields=("organization", "digest_date"),
                name="alerts_one_digest_per_organization_and_day",
            ),
        ),
        migrations.AddIndex(
            model_name="alertlog",
            index=models.Index(
                condition=Q(sent_at__isnull=True),
                fields=["next_attempt_at"],
                name="alerts_alertlog_unsent",
            ),
        ),
        migrations.AddField(
            model_name="stockalert",
            name="log",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="crossings",
                to="alerts.alertlog",
            ),
        ),
        migrations.AlterField(
            model_name="stockalert",
            name="opened_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="stockalert",
            name="quantity",
            field=models.IntegerField(help_text="Quantity on hand when the product went low."),
        ),
        migrations.AlterField(
            model_name="stockalert",
            name="low_stock_threshold",
            field=models.IntegerField(help_text="Threshold when the product went low."),
        ),
        migrations.RemoveIndex(model_name="stockalert", name="alerts_stockalert_to_notify"),
        migrations.AddIndex(
            model_name="stockalert",
            index=models.Index(
                condition=Q(notified_at__isnull=True),
                fields=["organization", "id"],
                name="alerts_stockalert_unnotified",
            ),
        ),
    ]
