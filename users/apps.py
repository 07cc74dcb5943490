from django.apps import AppConfig


class UsersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "users"

    def ready(self):
        from django.db.models.signals import post_migrate

        from users.roles import sync_role_permissions

        # Permissions exist only after every app has migrated, so roles get theirs then.
        post_migrate.connect(sync_role_permissions, dispatch_uid="users.sync_role_permissions")
