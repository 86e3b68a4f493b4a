"""The admin: a large confirmed import becomes a job, followed on its page; the Jobs list; who sees and retries what."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.jobs import files
from crm.jobs.models import Job
from crm.jobs.services import job_create
from crm.models import Client
from tests.factories import make_user
from tests.jobs.conftest import clients_csv, run_worker_once

pytestmark = pytest.mark.django_db


def upload(client, content: bytes):
    return client.post(
        reverse("admin:crm_client_import"),
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile("clients.csv", content)},
    )


def preview_and_confirm(client, content: bytes):
    preview = upload(client, content)
    assert preview.status_code == 200
    if "confirm_form" in preview.context:  # a small file: the preview's confirmation
        return client.post(reverse("admin:crm_client_process_import"), preview.context["confirm_form"].initial)
    return client.post(reverse("admin:crm_client_process_import"), preview.context["fields"])


def failed_job(owner) -> Job:
    job = Job.objects.create(kind=Job.Kind.IMPORT_CLIENTS, owner=owner, state=Job.State.FAILED, file_name="c.csv",
                             params={"format": "csv"}, error="boom")
    files.save_input(job.pk, clients_csv(3))
    return job


def test_a_file_above_the_threshold_is_imported_by_a_worker_and_followed_on_its_page(
    client, manager, settings, database_backend, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_ROWS = 20
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = preview_and_confirm(client, clients_csv(25))

    job = Job.objects.get()
    assert confirmed.status_code == 302 and confirmed.url == reverse("admin:jobs_job_change", args=[job.pk])
    assert not Client.objects.exists()  # nothing imported in the request
    page = client.get(confirmed.url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-state="queued"' in body and 'hx-trigger="every 2s"' in body
    assert f'hx-get="{reverse("admin:jobs_job_progress", args=[job.pk])}"' in body
    assert job.total == 25 and job.params["format"] == "csv"

    run_worker_once()

    fragment = client.get(reverse("admin:jobs_job_progress", args=[job.pk]))
    body = fragment.content.decode()
    assert 'data-state="done"' in body and "hx-trigger" not in body  # finished: the polling stops
    assert "Строк: 25 из 25" in body and "<dd>25</dd>" in body
    assert Client.objects.count() == 25


def test_a_file_at_the_threshold_is_still_imported_in_the_request(client, manager, settings):
    settings.IMPORT_BACKGROUND_ROWS = 20
    client.force_login(manager)

    confirmed = preview_and_confirm(client, clients_csv(20))

    assert confirmed.url == reverse("admin:crm_client_changelist")
    assert Client.objects.count() == 20 and not Job.objects.exists()


def test_a_failed_background_import_lists_the_line_and_reason_of_its_invalid_rows(
    client, manager, immediate_backend, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(kind=Job.Kind.IMPORT_CLIENTS, owner=manager, data=clients_csv(8, bad_line=5),
                         file_name="clients.csv", params={"format": "csv", "language": "en"})
    client.force_login(manager)

    body = client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()

    assert 'data-state="failed"' in body and 'id="job-problems"' in body
    assert "<li>Line 5: " in body and "Nothing was imported" in body
    assert not Client.objects.exists()


def test_the_jobs_list_shows_a_user_their_own_jobs_and_a_superuser_all(client, manager, superuser):
    other = make_user("other", group="Managers")
    mine, theirs = failed_job(manager), failed_job(other)

    client.force_login(manager)
    page = client.get(reverse("admin:jobs_job_changelist")).content.decode()
    assert reverse("admin:jobs_job_change", args=[mine.pk]) in page
    assert reverse("admin:jobs_job_change", args=[theirs.pk]) not in page

    client.force_login(superuser)
    page = client.get(reverse("admin:jobs_job_changelist")).content.decode()
    assert reverse("admin:jobs_job_change", args=[theirs.pk]) in page


def test_another_user_can_neither_see_nor_retry_a_job(client, manager):
    job = failed_job(make_user("other", group="Managers"))
    client.force_login(manager)

    assert client.get(reverse("admin:jobs_job_change", args=[job.pk])).status_code == 404
    assert client.get(reverse("admin:jobs_job_progress", args=[job.pk])).status_code == 404
    assert client.post(reverse("admin:jobs_job_retry", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.state == Job.State.FAILED


def test_a_superuser_sees_but_cannot_retry_someone_elses_job(client, superuser):
    job = failed_job(make_user("other", group="Managers"))
    client.force_login(superuser)

    page = client.get(reverse("admin:jobs_job_change", args=[job.pk]))
    assert page.status_code == 200 and reverse("admin:jobs_job_retry", args=[job.pk]) not in page.content.decode()
    assert client.post(reverse("admin:jobs_job_retry", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.state == Job.State.FAILED


def test_the_owner_retries_a_failed_job(client, manager, immediate_backend, django_capture_on_commit_callbacks):
    job = failed_job(manager)
    client.force_login(manager)
    assert reverse("admin:jobs_job_retry", args=[job.pk]) in client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()

    assert client.get(reverse("admin:jobs_job_retry", args=[job.pk])).status_code == 405  # POST only
    with django_capture_on_commit_callbacks(execute=True):
        retried = client.post(reverse("admin:jobs_job_retry", args=[job.pk]))

    assert retried.status_code == 302
    job.refresh_from_db()
    assert job.state == Job.State.DONE and Client.objects.count() == 3


def test_a_job_page_costs_few_queries(client, manager, django_assert_max_num_queries):
    job = failed_job(manager)
    client.force_login(manager)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("admin:jobs_job_change", args=[job.pk])).status_code == 200


def test_an_upload_above_the_threshold_is_not_previewed_but_counted_and_confirmed_for_the_background(
    client, manager, settings, database_backend, django_capture_on_commit_callbacks
):
    from crm.importexport import resources

    settings.IMPORT_BACKGROUND_ROWS = 20
    client.force_login(manager)
    with pytest.MonkeyPatch.context() as patch:
        # The request must not run the import's dry run (a preview of 200,000 rows takes a minute).
        patch.setattr(resources.ClientResource, "import_data", lambda *a, **k: pytest.fail("previewed in the request"))
        page = upload(client, clients_csv(25))
    assert page.status_code == 200
    assert [t.name for t in page.templates][0] == "crm/importexport/import_background.html"
    assert "result" not in page.context and not Job.objects.exists() and not Client.objects.exists()
    body = page.content.decode()
    assert "В «clients.csv» 25 строк." in body and "Импорт в фоне" in body  # in Russian, the default

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(reverse("admin:crm_client_process_import"), page.context["fields"])
    job = Job.objects.get()
    assert confirmed.url == reverse("admin:jobs_job_change", args=[job.pk]) and job.total == 25
    assert client.post(reverse("admin:crm_client_process_import"), page.context["fields"]).status_code == 302
    assert Job.objects.count() == 1  # a replayed confirmation finds its upload claimed

    run_worker_once()
    job.refresh_from_db()
    assert (job.state, job.new, job.changed, job.unchanged, job.invalid) == (Job.State.DONE, 25, 0, 0, 0)
    assert Client.objects.count() == 25


def test_a_large_upload_with_invalid_rows_fails_its_job_with_every_line_and_writes_nothing(
    client, manager, settings, database_backend, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_ROWS = 20
    client.force_login(manager)
    content = clients_csv(30, bad_line=7).replace(b"client20@", b"client3@")  # line 22 repeats line 5's e-mail
    page = upload(client, content)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:crm_client_process_import"), page.context["fields"])

    run_worker_once()

    job = Job.objects.get()
    assert job.state == Job.State.FAILED and job.invalid == 2
    assert [problem.split(":")[0] for problem in job.problems] == ["Строка 7", "Строка 22"] or [
        problem.split(":")[0] for problem in job.problems] == ["Line 7", "Line 22"]
    assert not Client.objects.exists()
    body = client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert "7" in body and "22" in body and 'data-state="failed"' in body


def test_a_large_upload_missing_a_key_column_is_refused_at_once(client, manager, settings):
    settings.IMPORT_BACKGROUND_ROWS = 2
    client.force_login(manager)
    content = "Фамилия,Имя\n" + "".join(f"Иванов,Иван{n}\n" for n in range(5))
    page = upload(client, content.encode())
    assert page.status_code == 200 and "confirm_form" not in page.context and "fields" not in page.context
    assert "E-mail" in str(page.context["form"].errors)
    assert not Job.objects.exists()
