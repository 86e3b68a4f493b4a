"""Folders for files only this app may read: admin uploads awaiting confirmation, background jobs' files."""

import os
import stat
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def private_dir(configured: str, default_name: str, setting_name: str) -> Path:
    """The folder a setting names (or `<temp dir>/<default_name>`), made private to this process's user."""
    path = Path(configured or Path(tempfile.gettempdir()) / default_name)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = path.stat()
    # In a shared temp directory someone else could have made it (or a link to theirs) first, to read the files.
    if not stat.S_ISDIR(status.st_mode) or (hasattr(os, "getuid") and status.st_uid != os.getuid()):
        raise ImproperlyConfigured(f"{setting_name} {path} must be a directory of this process's user.")
    return path
