"""Admin uploads waiting between the import preview and its confirmation.

import-export's default keeps the upload in the system's temp directory and trusts the file name the
confirmation posts back, so a hand-made confirmation could import (and then delete) any file there, and
uploads never confirmed stayed for ever. Here:
- an upload is stored only once its preview offers a confirmation (a refused file is never written),
  under a random name in a directory of its own (IMPORT_UPLOAD_DIR), readable by this process's user only;
- the confirmation carries a signed token naming that file, the user who uploaded it, the admin (model)
  and the format and resource chosen; a token another user posts, for another admin, altered, older than
  IMPORT_UPLOAD_MAX_AGE_MINUTES or naming anything but a random name of ours is refused;
- a confirmation claims the file by renaming it, so a replayed or double-clicked one finds it gone;
- every new upload and every confirmation deletes the uploads older than IMPORT_UPLOAD_MAX_AGE_MINUTES
  (their tokens have expired anyway), so abandoned ones do not pile up.
"""

import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from crm.private_files import private_dir

SALT = "crm.importexport.uploads"
NAME = re.compile(r"^[0-9a-f]{32}$")
SUFFIX = ".upload"


class UploadError(Exception):
    """The confirmation cannot reach its upload; the message says what to do."""


@dataclass(frozen=True)
class Upload:
    name: str  # the random file name
    user_id: int
    model: str  # app_label.model_name of the admin it was uploaded to
    format: str  # index in the admin's import formats, as the form posts it
    resource: str
    original_name: str
    rows: int | None = None  # counted at the upload when it was too large for a preview


def upload_dir() -> Path:
    return private_dir(settings.IMPORT_UPLOAD_DIR, "crm-import-uploads", "IMPORT_UPLOAD_DIR")


def max_age_seconds() -> int:
    return settings.IMPORT_UPLOAD_MAX_AGE_MINUTES * 60


def save_upload(*, user, model: str, data: bytes, format: str, resource: str, original_name: str,
                rows: int | None = None) -> str:
    """Store an upload whose preview is confirmable; the signed token for the confirmation form."""
    sweep_uploads()
    name = secrets.token_hex(16)
    descriptor = os.open(upload_dir() / (name + SUFFIX), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    payload = {"n": name, "u": user.pk, "m": model, "f": str(format), "r": str(resource or ""), "o": original_name}
    if rows is not None:
        payload["c"] = int(rows)
    return signing.dumps(payload, salt=SALT)


def verify_token(token: str, *, user, model: str) -> Upload:
    """The upload a confirmation's token names, if it is this user's, for this admin, and not expired."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age_seconds())
    except signing.SignatureExpired:
        raise UploadError(_("The uploaded file has expired; upload it again.")) from None
    except signing.BadSignature:
        raise UploadError(_("This import confirmation is not valid; upload the file again.")) from None
    try:
        upload = Upload(
            name=payload["n"], user_id=payload["u"], model=payload["m"], format=payload["f"],
            resource=payload["r"], original_name=payload["o"], rows=payload.get("c"),
        )
    except (KeyError, TypeError):
        raise UploadError(_("This import confirmation is not valid; upload the file again.")) from None
    if upload.user_id != user.pk or upload.model != model or not NAME.match(str(upload.name)):
        raise UploadError(_("This import confirmation is not valid; upload the file again."))
    return upload


def claim_upload(upload: Upload) -> bytes:
    """The upload's content, removed from the directory: a second confirmation of it finds nothing."""
    sweep_uploads()
    directory = upload_dir()
    claimed = directory / f"{upload.name}.{secrets.token_hex(4)}.claimed"
    try:
        # Atomic: of two confirmations racing, one gets the file and the other an error.
        os.rename(directory / (upload.name + SUFFIX), claimed)
    except FileNotFoundError:
        raise UploadError(
            _("The uploaded file is no longer available (already imported, or expired); upload it again.")
        ) from None
    try:
        return claimed.read_bytes()
    finally:
        claimed.unlink(missing_ok=True)


def sweep_uploads(*, now: float | None = None) -> int:
    """Delete uploads (and claims left by a crash) older than IMPORT_UPLOAD_MAX_AGE_MINUTES; how many."""
    deadline = (time.time() if now is None else now) - max_age_seconds()
    removed = 0
    for entry in os.scandir(upload_dir()):
        if not entry.name.endswith((SUFFIX, ".claimed")):
            continue  # only ever our own files, whatever else someone puts here
        try:
            if entry.stat(follow_symlinks=False).st_mtime < deadline:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            pass  # swept by another worker at the same moment
    return removed
