"""Django's command line for the example shop: ``python manage.py migrate``,
``python manage.py loyalty_migrate``, ``python manage.py loyalty_advance``."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_shop.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
