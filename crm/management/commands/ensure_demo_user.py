"""Create (or reset) the demo staff user test / test, a manager. Never in production."""

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

DEMO_USERNAME = "test"
DEMO_PASSWORD = "test"


class Command(BaseCommand):
    help = _("Ensure the demo manager account test / test exists (development only, refused when DEBUG is off).")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Refusing to create the demo user test/test in production (DJANGO_DEBUG is off).")
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=DEMO_USERNAME)
            user.is_staff = True
            user.is_active = True
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.add(Group.objects.get(name="Managers"))
        self.stdout.write(f"Demo user {DEMO_USERNAME!r} {'created' if created else 'is ready'} (password: test).")
