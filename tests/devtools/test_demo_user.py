"""The demo manager account (ensure_demo_user): created once, reset on every run, refused in production."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError


@pytest.mark.django_db
def test_ensure_demo_user_creates_a_manager_then_resets_it(settings):
    settings.DEBUG = True
    call_command("ensure_demo_user")
    user = User.objects.get(username="test")
    assert user.is_staff and user.is_active and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["Managers"]
    user.set_password("changed")
    user.is_active = False
    user.save()
    call_command("ensure_demo_user")
    user.refresh_from_db()
    assert user.is_active and user.check_password("test")
    assert User.objects.filter(username="test").count() == 1


@pytest.mark.django_db
def test_ensure_demo_user_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="production|в рабочем режиме"):
        call_command("ensure_demo_user")
    assert not User.objects.filter(username="test").exists()
