import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from core.checks import refuse_insecure_secret_key  # noqa: E402  (after django.setup())

refuse_insecure_secret_key()
