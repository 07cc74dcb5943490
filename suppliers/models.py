from django.db import models


class Supplier(models.Model):
    """Who the organization buys from."""

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="suppliers"
    )
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    phone_number = models.CharField(max_length=50, blank=True)
    address = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                name="suppliers_supplier_name_unique_per_org",
                violation_error_message="A supplier with this name already exists.",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "name", "id"]),
            models.Index(fields=["organization", "created_at", "id"]),
        ]

    def __str__(self):
        return self.name
