"""Back up the database while the app keeps serving: `manage.py backup [--output PATH] [--keep N]`."""

from django.core.management.base import CommandError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.backups import BackupError, backup_create, counts_text
from crm.management.base import TranslatedCommand


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Write a consistent backup of the database while the app keeps serving and writing: SQLite through its "
        "online backup API (gzip-compressed), PostgreSQL through pg_dump -Fc. Restore it with manage.py restore."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", default=None,
            help=gettext_lazy("File or folder to write to (default: a file named after the database kind and the "
                              "UTC time in BACKUP_DIR)."),
        )
        parser.add_argument(
            "--keep", type=int, default=None,
            help=gettext_lazy("Then remove all but the newest N backups of this database kind in that folder."),
        )

    def handle(self, *args, output, keep, **options):
        if keep is not None and keep < 1:
            raise CommandError(_("--keep must be at least 1."))
        try:
            backup = backup_create(output=output, keep=keep)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(
            _("Backup written: %(path)s (%(size)s).") % {"path": backup.path, "size": filesizeformat(backup.size)}
        ))
        self.stdout.write(counts_text(backup.counts))
        for path in backup.removed:
            self.stdout.write(_("Removed an older backup: %(path)s") % {"path": path})
