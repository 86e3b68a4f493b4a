"""Restore a backup of manage.py backup: `manage.py restore PATH [--force]`."""

from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.backups import BackupError, backup_restore, counts_text
from crm.management.base import TranslatedCommand


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Restore a backup made by manage.py backup into the configured database (DATABASE_URL). The whole file "
        "is checked first; an empty database is expected. Stop the app while it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help=gettext_lazy("The backup file."))
        parser.add_argument(
            "--force", action="store_true",
            help=gettext_lazy("Replace a database that is not empty: everything in it is lost."),
        )

    def handle(self, *args, path, force, **options):
        try:
            restore = backup_restore(path=Path(path), force=force, log=self.stdout.write)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(
            _("Restored %(path)s: %(counts)s.") % {"path": path, "counts": counts_text(restore.counts)}
        ))
        if restore.migrated:
            self.stdout.write(_("Applied the migrations the backup lacked: %(migrations)s.")
                              % {"migrations": ", ".join(restore.migrated)})
