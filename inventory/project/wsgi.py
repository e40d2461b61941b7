"""WSGI entry point (gunicorn inventory.project.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inventory.project.settings")
application = get_wsgi_application()
