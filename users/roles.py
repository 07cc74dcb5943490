"""The roles of API.md's role table, as Django groups with model permissions.

`ROLE_PERMISSIONS` is the single source of what each role may do. Groups are created by a data
migration; their permissions are (re)synchronised after every `migrate`, when every app's
permissions exist.
"""

from users.models import Role

ALL = ("view", "add", "change", "delete")
READ = ("view",)
WRITE = ("view", "add", "change")

# model label -> actions, per role. Models that do not exist (yet) are skipped.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.ADMIN: {
        "users.user": ALL,
        "users.organization": ("view", "change"),
        "auth.group": READ,
        "auth.permission": READ,
        "inventory.category": ALL,
        "inventory.product": ALL,
        "suppliers.supplier": ALL,
        "suppliers.supplierproduct": ALL,
        "replenishment.reorderrule": ALL,
        "stock.stockmovement": ("view", "add"),
        "stock.location": ALL,
        "stock.lot": ("view", "change"),
        "stock.stocklevel": READ,
        "stock.transfer": ("view", "add"),
        "purchases.purchaseorder": ALL,
        "purchases.purchaseorderitem": ALL,
        "purchases.receipt": ("view", "add"),
        "purchases.supplierreturn": ("view", "add"),
        "sales.salesorder": ALL,
        "sales.salesorderitem": ALL,
        "sales.customerreturn": ("view", "add"),
        "stocktakes.stocktake": WRITE,
        "stocktakes.stocktakeline": READ,
        "alerts.alertlog": READ,
        "alerts.stockalert": READ,
        "webhooks.webhook": ALL,
        "webhooks.delivery": ("view", "change"),
        "core.auditentry": READ,
        "imports.importjob": ("view", "add"),
    },
    Role.MANAGER: {
        "users.organization": READ,
        "inventory.category": ALL,
        "inventory.product": WRITE,
        "suppliers.supplier": ALL,
        "suppliers.supplierproduct": ALL,
        "replenishment.reorderrule": ALL,
        "stock.stockmovement": ("view", "add"),
        "stock.location": ALL,
        "stock.lot": ("view", "change"),
        "stock.stocklevel": READ,
        "stock.transfer": ("view", "add"),
        "purchases.purchaseorder": ALL,
        "purchases.purchaseorderitem": ALL,
        "purchases.receipt": ("view", "add"),
        "purchases.supplierreturn": ("view", "add"),
        "sales.salesorder": ALL,
        "sales.salesorderitem": ALL,
        "sales.customerreturn": ("view", "add"),
        "stocktakes.stocktake": WRITE,
        "stocktakes.stocktakeline": READ,
        "alerts.alertlog": READ,
        "alerts.stockalert": READ,
        "core.auditentry": READ,
        "imports.importjob": ("view", "add"),
    },
    Role.SALES: {
        "users.organization": READ,
        "inventory.category": READ,
        "inventory.product": READ,
        "suppliers.supplier": READ,
        "suppliers.supplierproduct": READ,
        "replenishment.reorderrule": READ,
        "stock.stockmovement": READ,
        "stock.location": READ,
        "stock.lot": READ,
        "stock.stocklevel": READ,
        "sales.salesorder": ALL,
        "sales.salesorderitem": ALL,
        "sales.customerreturn": ("view", "add"),
        "stocktakes.stocktake": READ,
        "stocktakes.stocktakeline": READ,
        "alerts.alertlog": READ,
        "alerts.stockalert": READ,
    },
}


# Permissions of a model beyond view/add/change/delete, per role ("app_label.codename").
ROLE_EXTRA_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.ADMIN: (
        "inventory.view_costs",
        "stocktakes.view_expected",
        "stocktakes.count_stocktake",
    ),
    Role.MANAGER: (
        "inventory.view_costs",
        "stocktakes.view_expected",
        "stocktakes.count_stocktake",
    ),
    # reports without cost figures (API.md); counts blind stocktakes without the books' figures
    Role.SALES: ("stocktakes.count_stocktake",),
}


def role_permission_codenames(role: str) -> set[tuple[str, str]]:
    """(app_label, codename) pairs the role should hold."""
    pairs = set()
    for label, actions in ROLE_PERMISSIONS[role].items():
        app_label, model_name = label.split(".")
        pairs.update((app_label, f"{action}_{model_name}") for action in actions)
    pairs.update(tuple(name.split(".")) for name in ROLE_EXTRA_PERMISSIONS[role])
    return pairs


def sync_role_permissions(sender=None, using="default", apps=None, **kwargs):
    """Give each role group exactly the permissions of ROLE_PERMISSIONS (post_migrate)."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    for role in Role.values:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = Q(pk__in=[])
        for app_label, codename in role_permission_codenames(role):
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.using(using).filter(wanted))
