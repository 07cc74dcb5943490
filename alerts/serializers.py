from rest_framework import serializers

from alerts.models import AlertLog


class AlertLogSerializer(serializers.ModelSerializer):
    recipients = serializers.ListField(child=serializers.EmailField(), read_only=True)

    class Meta:
        model = AlertLog
        fields = [
            "id",
            "kind",
            "subject",
            "created_at",
            "recipients",
            "low_stock_count",
            "expired_count",
        ]
        read_only_fields = fields
