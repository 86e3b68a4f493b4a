"""Signals of the API: a change to a user, a group or their permissions drops this worker's cached API users, and a
new password, a deactivation or a deletion ends the user's refresh tokens."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from api.authentication import clear_user_cache
from api.tokens import user_refresh_tokens_end


def _user_or_permissions_changed(sender, using, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) == {"last_login"}:
        return  # every login saves this; the API checks nothing in it
    clear_user_cache()
    # Again after the commit: until then another thread of this worker could cache the old row.
    transaction.on_commit(clear_user_cache, using=using)


def connect_user_cache_invalidation():
    user_model = get_user_model()
    for model in (user_model, Group):
        post_save.connect(_user_or_permissions_changed, sender=model)
        post_delete.connect(_user_or_permissions_changed, sender=model)
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_user_or_permissions_changed, sender=through)


def _note_password_or_deactivation(sender, instance, raw=False, using=None, update_fields=None, **kwargs):
    """Before a user is saved: does this save change the password or deactivate the user? Read from the database,
    so any way of changing it counts (the admin's forms, set_password(), `changepassword`, a plain assignment)."""
    instance._api_ends_tokens = False
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. a login's last_login
    stored = sender._default_manager.db_manager(using).filter(pk=instance.pk).values("password", "is_active").first()
    if stored is not None:
        instance._api_ends_tokens = stored["password"] != instance.password or (
            stored["is_active"] and not instance.is_active
        )


def _end_tokens_after_save(sender, instance, created=False, raw=False, **kwargs):
    if getattr(instance, "_api_ends_tokens", False):
        instance._api_ends_tokens = False
        user_refresh_tokens_end(instance.pk)


def _end_tokens_before_delete(sender, instance, **kwargs):
    # Deletion sets the tokens' user to NULL: blacklist them while they can still be found.
    user_refresh_tokens_end(instance.pk)


def connect_token_ending():
    user_model = get_user_model()
    pre_save.connect(_note_password_or_deactivation, sender=user_model)
    post_save.connect(_end_tokens_after_save, sender=user_model)
    pre_delete.connect(_end_tokens_before_delete, sender=user_model)
