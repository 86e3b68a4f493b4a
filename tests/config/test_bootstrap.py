"""The README's `run` command hands every extra argument to the development server."""

from crm.bootstrap import DEFAULT_ADDRESS, runserver_arguments


def test_no_arguments_serve_on_the_default_address():
    assert runserver_arguments([]) == [DEFAULT_ADDRESS]


def test_an_address_and_options_all_reach_runserver():
    assert runserver_arguments(["0.0.0.0:8000", "--noreload", "--nothreading"]) == [
        "0.0.0.0:8000", "--noreload", "--nothreading",
    ]


def test_options_alone_keep_the_default_address():
    assert runserver_arguments(["--noreload"]) == [DEFAULT_ADDRESS, "--noreload"]


def test_run_writes_a_development_env_file_once_and_never_overwrites_it(tmp_path, monkeypatch):
    from crm import bootstrap

    monkeypatch.setattr(bootstrap, "ROOT", tmp_path)
    bootstrap.ensure_development_env_file()
    assert "DJANGO_DEBUG=1" in (tmp_path / ".env").read_text()

    (tmp_path / ".env").write_text("DJANGO_DEBUG=0\nDJANGO_SECRET_KEY=mine\n")
    bootstrap.ensure_development_env_file()
    assert (tmp_path / ".env").read_text() == "DJANGO_DEBUG=0\nDJANGO_SECRET_KEY=mine\n"


def test_manage_py_without_a_secret_says_so_in_one_sentence():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST"))}
    env["DJANGO_ENV_FILE"] = ""
    completed = subprocess.run(
        [sys.executable, str(root / "manage.py"), "check"], cwd=root, env=env, capture_output=True, text=True
    )
    assert completed.returncode != 0
    assert completed.stderr.startswith("manage.py: DJANGO_SECRET_KEY is not set.")
    assert "Traceback" not in completed.stderr
