"""Create (or reset) the demo staff user test / test, a manager. Never in production."""

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import gettext_lazy as _

from crm.devtools.demo import DEMO_USERNAME, ensure_demo_user
from crm.management.base import TranslatedCommand


class Command(TranslatedCommand):
    help = _("Ensure the demo manager account test / test exists (development only, refused when DEBUG is off).")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(_("Refusing to create the demo user test/test in production (DJANGO_DEBUG is off)."))
        created = ensure_demo_user()
        self.stdout.write(f"Demo user {DEMO_USERNAME!r} {'created' if created else 'is ready'} (password: test).")
