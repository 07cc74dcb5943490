from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class UsersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "users"

    def ready(self):
        from django.db.models.signals import post_migrate

        from users import signals
        from users.roles import sync_role_permissions

        # Permissions exist only after every app has migrated, so roles get theirs then.
        post_migrate.connect(sync_role_permissions, dispatch_uid="users.sync_role_permissions")
        signals.connect()


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with the site that lets each organization's own staff in
    (`INSTALLED_APPS` names it instead of `django.contrib.admin`)."""

    default = False  # not the users app's own configuration
    default_site = "users.admin_site.StockroomAdminSite"
