"""A change to a user, a group or their permissions drops this worker's cached API users."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from api.authentication import clear_user_cache


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
