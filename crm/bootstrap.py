"""The README's two commands, with nothing but Python >= 3.11 on the machine.

    python3 -m crm.bootstrap run    # set up and start the app with demo data (login test / test)
    python3 -m crm.bootstrap test   # set up and run the whole test suite

Standard library only: this runs before any dependency is installed.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
MIN_PYTHON = (3, 11)
DEFAULT_ADDRESS = "127.0.0.1:8000"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def run(*args: str, env: dict | None = None) -> None:
    completed = subprocess.run(args, cwd=ROOT, env=env)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def ensure_virtualenv(requirements_file: str) -> Path:
    """Create .venv and install the requirements, again only when a requirements file changed."""
    if not venv_python().exists():
        say(f"Creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256()
    for name in sorted(["requirements.txt", requirements_file]):
        digest.update((ROOT / name).read_bytes())
    stamp = VENV / f".installed-{requirements_file}-{digest.hexdigest()[:16]}"
    if not stamp.exists():
        say(f"Installing {requirements_file} (first run takes a minute)")
        run(str(venv_python()), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(str(venv_python()), "-m", "pip", "install", "--quiet", "-r", str(ROOT / requirements_file))
        for old in VENV.glob(f".installed-{requirements_file}-*"):
            old.unlink()
        stamp.touch()
    return venv_python()


def runserver_arguments(extra_args: list[str]) -> list[str]:
    """Every extra argument goes to runserver; the address comes first, 127.0.0.1:8000 unless one is given."""
    addresses = [arg for arg in extra_args if not arg.startswith("-")]
    options = [arg for arg in extra_args if arg.startswith("-")]
    return [*(addresses or [DEFAULT_ADDRESS]), *options]


def ensure_development_env_file() -> None:
    """A .env saying DJANGO_DEBUG=1, so that `manage.py` commands work locally as `run` does (never overwritten)."""
    env_file = ROOT / ".env"
    if not env_file.exists():
        say(f"Writing {env_file} (DJANGO_DEBUG=1) for local manage.py commands")
        env_file.write_text("# Local development settings, written by `python3 -m crm.bootstrap run`.\nDJANGO_DEBUG=1\n")


def command_run(extra_args: list[str]) -> None:
    python = str(ensure_virtualenv("requirements.txt"))
    ensure_development_env_file()
    env = dict(os.environ)
    # Local runs are development runs unless the environment (or .env) says otherwise.
    env.setdefault("DJANGO_DEBUG", "1")
    manage = [python, str(ROOT / "manage.py")]
    say("Applying database migrations")
    run(*manage, "migrate", "--no-input", env=env)
    say("Loading demo data into an empty database")
    run(*manage, "load_demo", "--if-empty", env=env)
    say("Ensuring the demo user test / test")
    run(*manage, "ensure_demo_user", env=env)
    server_args = runserver_arguments(extra_args)
    say("Starting the background worker (large imports run there)")
    worker = start_worker(manage, env)
    say(f"Starting the app at http://{server_args[0]}/  (login: test / test, stop with Ctrl+C)")
    interrupted = False
    try:
        run(*manage, "runserver", *server_args, env=env)
    except KeyboardInterrupt:
        interrupted = True  # the terminal's Ctrl+C reached the worker too: it is already stopping
    finally:
        stop_worker(worker, signalled=interrupted)


def start_worker(manage: list[str], env: dict) -> subprocess.Popen | None:
    """One worker beside the development server, when jobs go to a queue (the database, the default, or Redis)."""
    if env.get("TASKS_BACKEND", "database") not in ("database", "redis"):
        return None
    return subprocess.Popen([*manage, "run_worker", "--no-reload"], cwd=ROOT, env=env)


def stop_worker(worker: subprocess.Popen | None, signalled: bool = False) -> None:
    """Stopped with the server: one SIGINT/SIGTERM lets it finish its job (a second would cut it short);
    after 30 s it is killed."""
    if worker is None or worker.poll() is not None:
        return
    if not signalled:
        worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()  # an interrupted import rolls back; the next start marks its job failed
        worker.wait()


def command_test(extra_args: list[str]) -> None:
    python = str(ensure_virtualenv("requirements-dev.txt"))
    say("Running the test suite")
    completed = subprocess.run([python, "-m", "pytest", *extra_args], cwd=ROOT)
    sys.exit(completed.returncode)


COMMANDS = {"run": command_run, "test": command_test}


def main(argv: list[str]) -> None:
    if sys.version_info < MIN_PYTHON:
        sys.exit(f"Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed; this is {sys.version.split()[0]}.")
    if not argv or argv[0] not in COMMANDS:
        sys.exit(f"usage: python3 -m crm.bootstrap {{{'|'.join(COMMANDS)}}} [args...]")
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
