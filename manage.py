#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # load them now: a missing secret is one clear sentence, not a traceback
    except ImproperlyConfigured as error:
        sys.exit(f"manage.py: {error}")

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
