"""The scheduled reports' admin pages: the form refuses bad input with clear messages, permissions are checked on
the POST, a non-superuser owns what they add, and the pages read in Russian."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.jobs.models import Job
from reports.models import ReportSchedule
from reports.schedules import report_schedule_save
from tests.admin.test_russian_everywhere import english_words

pytestmark = pytest.mark.django_db

ADD = reverse("admin:reports_reportschedule_add")
CHANGELIST = reverse("admin:reports_reportschedule_changelist")


def form(**fields) -> dict:
    return {"period": "week", "weekday": "0", "day_of_month": "1", "hour": "9",
            "recipients": "boss@example.com", "is_active": "on", **fields}


def field_errors(response, field: str) -> list[str]:
    assert response.status_code == 200, "the form was accepted"
    return response.context["adminform"].form.errors.get(field, [])


def test_a_manager_adds_a_schedule_and_owns_it(client, manager, superuser):
    client.force_login(manager)
    response = client.post(ADD, form(recipients="Boss@Example.com,\n sales@example.com; boss@example.com",
                                     period="month", day_of_month="31", hour="7", owner=superuser.pk))
    assert response.status_code == 302
    schedule = ReportSchedule.objects.get()
    assert schedule.owner == manager  # not the owner posted: only a superuser chooses one
    assert schedule.recipients == "boss@example.com, sales@example.com"
    local = timezone.localtime(schedule.next_run_at)
    assert (local.hour, local.minute) == (7, 0) and local > timezone.localtime()


def test_a_superuser_chooses_the_owner(client, manager, superuser):
    client.force_login(superuser)
    assert client.post(ADD, form(owner=manager.pk)).status_code == 302
    assert ReportSchedule.objects.get().owner == manager


@pytest.mark.parametrize(
    ("recipients", "message"),
    [
        ("boss@example.com, not-an-address, x@", "Это не адреса e-mail: not-an-address, x@."),
        (" , ;", "Укажите хотя бы один адрес e-mail."),
        ("\n".join(f"user{n}@example.com" for n in range(51)), "Не больше 50 адресов."),
        ("boss@example.com\x07", "Уберите управляющий или невидимый символ U+0007"),
    ],
)
def test_bad_recipients_are_refused_with_a_reason(client, manager, recipients, message):
    client.force_login(manager)
    errors = field_errors(client.post(ADD, form(recipients=recipients), HTTP_ACCEPT_LANGUAGE="ru"), "recipients")
    assert any(error.startswith(message) for error in errors), errors
    assert not ReportSchedule.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("hour", "24"), ("hour", "-1"), ("hour", "nine"), ("weekday", "7"),
                                              ("day_of_month", "0"), ("day_of_month", "32"), ("period", "day")])
def test_out_of_range_timing_is_refused(client, manager, field, value):
    client.force_login(manager)
    assert field_errors(client.post(ADD, form(**{field: value})), field)
    assert not ReportSchedule.objects.exists()


def test_permissions_are_checked_on_the_post(client, viewer, nobody, manager):
    schedule = report_schedule_save(schedule=ReportSchedule(owner=manager, recipients="boss@example.com"))
    change = reverse("admin:reports_reportschedule_change", args=[schedule.pk])
    delete = reverse("admin:reports_reportschedule_delete", args=[schedule.pk])

    client.force_login(viewer)  # sees, changes nothing
    assert client.get(CHANGELIST).status_code == 200
    assert client.post(ADD, form()).status_code == 403
    assert client.post(change, form(recipients="thief@example.com")).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403

    client.force_login(nobody)
    assert client.get(CHANGELIST).status_code == 403
    assert client.post(ADD, form()).status_code == 403

    schedule.refresh_from_db()
    assert schedule.recipients == "boss@example.com" and ReportSchedule.objects.count() == 1

    client.force_login(manager)
    assert client.post(change, form(recipients="new@example.com", hour="18")).status_code == 302
    schedule.refresh_from_db()
    assert schedule.recipients == "new@example.com" and timezone.localtime(schedule.next_run_at).hour == 18
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not ReportSchedule.objects.exists()


def test_turning_a_schedule_off_in_the_admin_stops_it(client, manager):
    schedule = report_schedule_save(schedule=ReportSchedule(owner=manager, recipients="boss@example.com"))
    client.force_login(manager)
    change = reverse("admin:reports_reportschedule_change", args=[schedule.pk])
    response = client.post(change, {key: value for key, value in form().items() if key != "is_active"})
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert not schedule.is_active and schedule.next_run_at is None


def test_the_pages_are_russian(client, manager):
    schedule = report_schedule_save(schedule=ReportSchedule(owner=manager, recipients="boss@example.com"))
    ReportSchedule.objects.filter(pk=schedule.pk).update(last_error="Письмо не отправлено", last_sent_at=timezone.now())
    client.force_login(manager)
    for url in [CHANGELIST, ADD, reverse("admin:reports_reportschedule_change", args=[schedule.pk]),
                reverse("admin:reports_reportschedule_send_now", args=[schedule.pk])]:
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="ru")
        assert page.status_code == 200, url
        # Data: the owner's user name (and its initial in the user menu), the recipient's address.
        assert english_words(page.content.decode()) - {"manager", "M", "boss"} == set(), url
    assert "Еженедельно по понедельникам в 09:00" in client.get(CHANGELIST).content.decode()


def test_send_now_queues_the_report_and_leaves_the_next_run(client, manager, viewer, settings, tmp_path,
                                                             django_capture_on_commit_callbacks):
    settings.JOBS_DIR = str(tmp_path / "jobs")
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    schedule = report_schedule_save(schedule=ReportSchedule(owner=manager, recipients="boss@example.com"))
    send_now = reverse("admin:reports_reportschedule_send_now", args=[schedule.pk])

    client.force_login(viewer)
    assert client.post(send_now, {"_form_submitted": "1"}).status_code == 403
    client.force_login(manager)
    assert send_now in client.get(reverse("admin:reports_reportschedule_change", args=[schedule.pk])).content.decode()
    assert client.get(send_now).status_code == 200  # the dialog; nothing sent without its confirmation
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_now, {"_form_submitted": "1"})

    job = Job.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:jobs_job_change", args=[job.pk])
    assert job.state == Job.State.DONE and len(mail.outbox) == 1 and mail.outbox[0].to == ["boss@example.com"]
    assert ReportSchedule.objects.get().next_run_at == schedule.next_run_at


def test_send_now_for_a_schedule_that_does_not_exist_is_a_404(client, manager):
    client.force_login(manager)
    for object_id in ["999", "nope"]:
        url = f"/admin/reports/reportschedule/{object_id}/send_now/"
        assert client.post(url, {"_form_submitted": "1"}).status_code == 404


def test_send_now_for_a_schedule_that_is_off_says_why_and_queues_nothing(client, manager):
    schedule = report_schedule_save(schedule=ReportSchedule(owner=manager, recipients="boss@example.com",
                                                            is_active=False))
    client.force_login(manager)
    response = client.post(reverse("admin:reports_reportschedule_send_now", args=[schedule.pk]),
                           {"_form_submitted": "1"}, follow=True)
    assert "Рассылка выключена; ничего не отправлено." in response.content.decode()
    assert not Job.objects.exists() and mail.outbox == []
