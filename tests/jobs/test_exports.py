"""Admin exports of long lists become jobs: the file is written by a worker into the exports storage, downloaded by
its owner only, the same bytes as the export in the request, and deleted after EXPORT_KEEP_HOURS."""

import datetime as dt
import io
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from crm.jobs.exports import export_storage, sweep_expired_exports
from crm.jobs.models import Job
from crm.models import Order
from tests.factories import make_user
from tests.importexport.conftest import sample_data  # noqa: F401 (a fixture)
from tests.jobs.conftest import run_worker_once

pytestmark = pytest.mark.django_db

CSV, XLSX, JSON = "0", "1", "2"  # the formats' positions in the admin's select
ORDERS_EXPORT = reverse("admin:crm_order_export")
CLIENTS_EXPORT = reverse("admin:crm_client_export")


@pytest.fixture(autouse=True)
def small_threshold(settings):
    settings.EXPORT_BACKGROUND_ROWS = 1
    settings.EXPORT_KEEP_HOURS = 24


def export(client, url, query="", fmt=CSV):
    return client.post(url + query, {"resource": "0", "format": fmt})


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def queue_export(client, url, query="", fmt=CSV, *, capture) -> Job:
    with capture(execute=True):
        response = export(client, url, query, fmt)
    job = Job.objects.latest("id")
    assert response.status_code == 302 and response.url == reverse("admin:jobs_job_change", args=[job.pk])
    return job


def download_url(job) -> str:
    return reverse("admin:jobs_job_download", args=[job.pk])


def test_an_export_above_the_threshold_is_written_by_a_worker_and_is_the_same_file_as_in_the_request(
    client, manager, sample_data, settings, database_backend, django_capture_on_commit_callbacks  # noqa: F811
):
    client.force_login(manager)
    query = "?q=иванов"  # the list's search: two of the four orders

    job = queue_export(client, ORDERS_EXPORT, query, capture=django_capture_on_commit_callbacks)

    assert job.kind == Job.Kind.EXPORT_ORDERS and job.state == Job.State.QUEUED
    assert job.params["query"] == "q=%D0%B8%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2" and job.params["format"] == "csv"
    assert job.file_name == f"заказы-{timezone.localdate():%Y-%m-%d}.csv"
    page = client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert 'data-state="queued"' in page and 'hx-trigger="every 2s"' in page
    assert download_url(job) not in page

    run_worker_once()

    job.refresh_from_db()
    assert (job.state, job.total, job.done, job.error) == (Job.State.DONE, 2, 2, "")
    fragment = client.get(reverse("admin:jobs_job_progress", args=[job.pk])).content.decode()
    assert 'data-state="done"' in fragment and "hx-trigger" not in fragment
    assert f'href="{download_url(job)}"' in fragment and "Строк: 2 из 2" in fragment

    downloaded = client.get(download_url(job))
    assert downloaded.status_code == 200
    assert downloaded["Content-Type"] == "text/csv; charset=utf-8"
    assert downloaded["Content-Disposition"] == (
        f"attachment; filename*=utf-8''{quote(job.file_name)}"
    )
    content = body_of(downloaded)
    settings.EXPORT_BACKGROUND_ROWS = 100
    in_request = export(client, ORDERS_EXPORT, query)
    assert content == body_of(in_request)  # byte for byte
    lines = content.decode("utf-8").split("\r\n")
    assert lines[0] == "\ufeffID;Создан;E-mail клиента;ID клиента;Клиент;Товар;Количество;Цена;Сумма;Описание;Статус"
    newest, oldest = Order.objects.filter(client=sample_data["ivanov"]).order_by("-id")
    ivanov_id = sample_data["ivanov"].pk
    assert lines[1].startswith(f"{newest.pk};06.03.2024 10:00:00;ivanov@example.com;")  # the list's order: newest first
    assert lines[-2] == (
        f"{oldest.pk};05.03.2024 21:00:00;ivanov@example.com;{ivanov_id};Иванов Иван;Ноутбук;2;1500,50;3001,00;;Завершён"
    )
    assert "Монитор" not in content.decode()  # the search was kept


def test_an_export_at_the_threshold_is_made_in_the_request(client, manager, sample_data, settings):  # noqa: F811
    settings.EXPORT_BACKGROUND_ROWS = 2
    client.force_login(manager)

    response = export(client, CLIENTS_EXPORT, "?status__exact=active")  # two active clients: not above 2

    assert response.status_code == 200 and response.streaming
    assert "Иванов" in body_of(response).decode("utf-8-sig")
    assert not Job.objects.exists()


def test_the_list_filters_are_kept_and_an_xlsx_export_is_written_too(
    client, manager, sample_data, immediate_backend, django_capture_on_commit_callbacks, settings  # noqa: F811
):
    client.force_login(manager)

    job = queue_export(client, CLIENTS_EXPORT, "?status__exact=all", XLSX, capture=django_capture_on_commit_callbacks)

    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.total == 3 and job.file_name.endswith(".xlsx")
    downloaded = body_of(client.get(download_url(job)))
    settings.EXPORT_BACKGROUND_ROWS = 100
    in_request = export(client, CLIENTS_EXPORT, "?status__exact=all", XLSX).content

    def cells(data):
        return list(openpyxl.load_workbook(io.BytesIO(data), read_only=True).active.values)

    assert cells(downloaded) == cells(in_request) and len(cells(downloaded)) == 4


def test_only_the_owner_can_download_the_file(
    client, manager, superuser, sample_data, immediate_backend, django_capture_on_commit_callbacks  # noqa: F811
):
    client.force_login(manager)
    job = queue_export(client, ORDERS_EXPORT, capture=django_capture_on_commit_callbacks)
    assert client.get(download_url(job)).status_code == 200

    client.force_login(make_user("other", group="Managers"))
    assert client.get(download_url(job)).status_code == 404  # not even their job to see

    client.force_login(superuser)
    assert client.get(download_url(job)).status_code == 403  # sees the job, not its file
    page = client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert download_url(job) not in page and "Скачать файл может только владелец задачи." in page

    client.logout()
    anonymous = client.get(download_url(job))
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("admin:login"))


def test_an_expired_export_says_so_and_its_file_is_deleted(
    client, manager, sample_data, immediate_backend, django_capture_on_commit_callbacks, settings  # noqa: F811
):
    client.force_login(manager)
    job = queue_export(client, ORDERS_EXPORT, capture=django_capture_on_commit_callbacks)
    job.refresh_from_db()
    path = Path(export_storage().path(job.output_file))
    assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert Path(settings.JOBS_DIR) in path.parents  # the private jobs folder, not a public media one
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - dt.timedelta(hours=25))

    response = client.get(download_url(job), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:jobs_job_change", args=[job.pk])
    body = response.content.decode()
    assert "Срок хранения файла выгрузки истёк, файл удалён; выгрузите список заново." in body
    assert "Срок хранения файла истёк: выгрузки хранятся 24 часа, затем удаляются." in body
    assert not path.exists()  # deleted now, without waiting for the sweep
    job.refresh_from_db()
    assert job.output_file == "" and job.state == Job.State.DONE


def test_the_sweep_deletes_the_files_of_expired_exports_only(
    client, manager, sample_data, immediate_backend, django_capture_on_commit_callbacks  # noqa: F811
):
    client.force_login(manager)
    jobs = [queue_export(client, ORDERS_EXPORT, capture=django_capture_on_commit_callbacks) for _ in range(2)]
    old, fresh = (Job.objects.get(pk=job.pk) for job in jobs)
    Job.objects.filter(pk=old.pk).update(finished_at=timezone.now() - dt.timedelta(hours=25))
    old_path, fresh_path = (Path(export_storage().path(job.output_file)) for job in (old, fresh))

    assert sweep_expired_exports() == 1

    assert not old_path.exists() and not old_path.parent.exists() and fresh_path.exists()
    assert Job.objects.get(pk=old.pk).output_file == "" and Job.objects.get(pk=fresh.pk).output_file


def test_an_export_whose_owner_lost_the_permission_ends_failed_with_the_reason(
    client, manager, sample_data, database_backend, django_capture_on_commit_callbacks  # noqa: F811
):
    client.force_login(manager)
    job = queue_export(client, ORDERS_EXPORT, capture=django_capture_on_commit_callbacks)
    manager.groups.clear()  # between the click and the worker

    run_worker_once()

    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.output_file == ""
    # In the language of the page the export was asked from.
    assert job.error == "У пользователя manager больше нет права выгружать этот список; ничего не выгружено."


def test_an_export_failing_on_an_unexpected_error_ends_failed_and_leaves_no_file(
    client, manager, sample_data, database_backend, django_capture_on_commit_callbacks, jobs_dir, monkeypatch  # noqa: F811
):
    client.force_login(manager)
    job = queue_export(client, ORDERS_EXPORT, capture=django_capture_on_commit_callbacks)

    def broken_rows(*args, **kwargs):
        yield ["1"]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("crm.importexport.exports.export_rows", broken_rows)
    run_worker_once()

    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.output_file == ""
    assert job.error == "Задача остановилась из-за непредвиденной ошибки; ничего не записано."
    assert not any(path.is_file() for path in jobs_dir.rglob("*"))  # neither the temporary file nor a stored one
    page = client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()
    assert 'data-state="failed"' in page and download_url(job) not in page and "Повторить" in page


def test_a_failed_export_can_be_retried_by_its_owner(
    client, manager, sample_data, database_backend, django_capture_on_commit_callbacks  # noqa: F811
):
    client.force_login(manager)
    job = queue_export(client, ORDERS_EXPORT, capture=django_capture_on_commit_callbacks)
    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED, error="boom")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:jobs_job_retry", args=[job.pk]))
    run_worker_once()

    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.total == 4 and job.output_file


def test_an_xlsx_export_longer_than_a_sheet_is_refused_with_a_clear_reason(
    client, manager, sample_data, immediate_backend, django_capture_on_commit_callbacks, monkeypatch  # noqa: F811
):
    monkeypatch.setattr("crm.jobs.exports.XLSX_MAX_ROWS", 3)
    client.force_login(manager)

    job = queue_export(client, ORDERS_EXPORT, fmt=XLSX, capture=django_capture_on_commit_callbacks)

    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.error == "Лист Excel вмещает не больше 3 строк, а в списке их 4; выгрузите его в CSV."


def test_the_worker_sweeps_expired_exports_when_it_starts(
    client, manager, sample_data, database_backend, django_capture_on_commit_callbacks  # noqa: F811
):
    client.force_login(manager)
    job = queue_export(client, ORDERS_EXPORT, capture=django_capture_on_commit_callbacks)
    run_worker_once()
    job.refresh_from_db()
    path = Path(export_storage().path(job.output_file))
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - dt.timedelta(hours=25))

    from unittest import mock

    with mock.patch("django_tasks_db.management.commands.db_worker.Command.handle", return_value=None):
        call_command("run_worker", "--batch")

    assert not path.exists() and Job.objects.get(pk=job.pk).output_file == ""


@pytest.mark.django_db(transaction=True)  # the job is enqueued when its row is committed
def test_export_orders_background_follows_the_job_and_copies_its_file(tmp_path, immediate_backend, settings):
    from crm.models import Order
    from tests.factories import OrderFactory

    make_user("boss", superuser=True)
    OrderFactory(product="Ноутбук", status=Order.Status.COMPLETED)
    OrderFactory(product="Мышь", status=Order.Status.PENDING)
    output, err, out = tmp_path / "выгрузка.csv", io.StringIO(), io.StringIO()

    call_command("export_orders", "--background", "--user", "boss", "--status", "Completed", "--no-progress",
                 "-o", str(output), stdout=out, stderr=err)

    job = Job.objects.get()
    assert (job.state, job.kind, job.total, job.file_name) == (Job.State.DONE, Job.Kind.EXPORT_ORDERS, 1, "выгрузка.csv")
    assert f"Job #{job.pk} queued." in err.getvalue() and "Exported 1 rows." in err.getvalue()
    assert out.getvalue().strip() == str(output)
    in_foreground = tmp_path / "foreground.csv"
    call_command("export_orders", "--status", "Completed", "-o", str(in_foreground), stderr=io.StringIO())
    assert output.read_bytes() == in_foreground.read_bytes()


@pytest.mark.django_db
def test_export_background_needs_an_owner():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--background needs --user"):
        call_command("export_clients", "--background", stdout=io.StringIO(), stderr=io.StringIO())


def test_any_django_storage_can_keep_the_exports(
    client, manager, sample_data, immediate_backend, django_capture_on_commit_callbacks, settings  # noqa: F811
):
    # What EXPORT_STORAGE_BACKEND / EXPORT_STORAGE_OPTIONS set; a storage with no local path, as S3 would be.
    settings.STORAGES = {**settings.STORAGES, "exports": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    client.force_login(manager)

    job = queue_export(client, ORDERS_EXPORT, capture=django_capture_on_commit_callbacks)

    job.refresh_from_db()
    storage = export_storage()
    assert type(storage).__name__ == "InMemoryStorage" and storage.exists(job.output_file)
    content = body_of(client.get(download_url(job)))
    assert content.decode("utf-8-sig").startswith("ID;Создан;") and len(content.splitlines()) > 4
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - dt.timedelta(hours=25))
    assert sweep_expired_exports() == 1 and not storage.exists(job.output_file)


def test_a_configured_location_is_used_as_it_is(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "out")},
    }}

    assert export_storage().location == str(tmp_path / "out")


def test_the_exports_storage_is_set_from_the_environment():
    from tests.config.test_settings import run_settings

    code = "from django.conf import settings; import json; print(json.dumps(settings.STORAGES['exports']))"
    result = run_settings({
        "DJANGO_DEBUG": "1", "EXPORT_STORAGE_BACKEND": "storages.backends.s3.S3Storage",
        "EXPORT_STORAGE_OPTIONS": '{"bucket_name": "crm-exports", "default_acl": "private"}',
    }, code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        '{"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "crm-exports", "default_acl": "private"}}'
    )


def test_the_sweep_deletes_the_half_written_file_a_killed_worker_left(manager, jobs_dir):
    from crm.jobs.exports import temporary_path

    running = Job.objects.create(kind=Job.Kind.EXPORT_ORDERS, owner=manager, state=Job.State.RUNNING)
    killed = Job.objects.create(kind=Job.Kind.EXPORT_ORDERS, owner=manager, state=Job.State.FAILED)
    for job in (running, killed):
        temporary_path(job.pk).write_text("ID;Создан\n1;")

    sweep_expired_exports()

    assert temporary_path(running.pk).exists() and not temporary_path(killed.pk).exists()


@pytest.mark.parametrize("query", ["nonexistent__field=1", "client__id__exact=notanumber"])
def test_an_export_whose_filters_no_longer_apply_ends_failed_with_the_reason(
    client, manager, sample_data, database_backend, django_capture_on_commit_callbacks, query  # noqa: F811
):
    client.force_login(manager)
    job = queue_export(client, ORDERS_EXPORT, capture=django_capture_on_commit_callbacks)
    job.params["query"] = query  # e.g. a filter removed from the list between the click and the worker
    job.save(update_fields=["params"])

    run_worker_once()

    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.output_file == ""
    assert job.error == "Фильтры списка больше не действуют; выгрузите список заново."
