from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_PROBLEMS = 1000  # invalid rows kept with a failed job: enough to fix a file, bounded in size


class Job(models.Model):
    class Kind(models.TextChoices):
        IMPORT_CLIENTS = "import_clients", _("Client import")
        IMPORT_ORDERS = "import_orders", _("Order import")
        SCHEDULED_REPORT = "scheduled_report", _("Scheduled report")
        EXPORT_CLIENTS = "export_clients", _("Client export")
        EXPORT_ORDERS = "export_orders", _("Order export")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs", verbose_name=_("owner")
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    # What the task needs besides the input file (e.g. the file format); never shown.
    params = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(_("rows"), default=0)
    done = models.PositiveIntegerField(_("rows done"), default=0)
    new = models.PositiveIntegerField(_("new"), default=0)
    changed = models.PositiveIntegerField(_("changed"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    invalid = models.PositiveIntegerField(_("invalid"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)  # ["Line 3: email: ...", ...]
    error = models.TextField(_("error"), blank=True)
    # An export's file in the "exports" storage; emptied when the file is deleted after EXPORT_KEEP_HOURS.
    output_file = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Where it runs: a worker that died (kill -9, power cut) is recognised by its process being gone.
    worker_host = models.CharField(max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="job_owner_created"),
            models.Index(fields=["state"], name="job_state"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def takes_file(self) -> bool:
        """Imports read an uploaded file, kept for a retry; other jobs have none."""
        return self.kind in (self.Kind.IMPORT_CLIENTS, self.Kind.IMPORT_ORDERS)

    @property
    def is_export(self) -> bool:
        return self.kind in (self.Kind.EXPORT_CLIENTS, self.Kind.EXPORT_ORDERS)

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)
