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
