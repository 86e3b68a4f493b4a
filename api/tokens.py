"""Refresh tokens: one use each, even under concurrent requests, and none outlives its user's password."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.serializers import TokenRefreshSerializer as BaseTokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import get_md5_hash_password


def user_refresh_tokens_end(user_id) -> int:
    """Blacklist every unexpired refresh token of this user; returns how many were still usable."""
    usable = OutstandingToken.objects.filter(
        user_id=user_id, blacklistedtoken__isnull=True, expires_at__gt=timezone.now()
    ).values_list("pk", flat=True)
    ended = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in usable], ignore_conflicts=True
    )
    return len(ended)


class TokenRefreshSerializer(BaseTokenRefreshSerializer):
    """simplejwt's refresh with rotation and blacklisting, plus what it leaves out:

    - the user must still exist (401, not simplejwt's 500), be active, and have the password the token was
      issued under (CHECK_REVOKE_TOKEN; simplejwt checks it for access tokens only);
    - the used token is blacklisted in the same transaction that issues the new one, on its locked row, and
      only the request that blacklists it gets new tokens: of concurrent refreshes of one token exactly one wins.
    """

    def validate(self, attrs):
        # Signature, expiry, type and the blacklist (the cheap refusal of a used token).
        refresh = self.token_class(attrs["refresh"])
        self._check_user(refresh)
        with transaction.atomic():
            if not self._blacklist_first(refresh):
                raise InvalidToken(_("Token is blacklisted"))
            data = {"access": str(refresh.access_token)}
            refresh.set_jti()
            refresh.set_exp()
            refresh.set_iat()
            refresh.outstand()
            data["refresh"] = str(refresh)
        return data

    def _check_user(self, refresh) -> None:
        user_model = get_user_model()
        field = user_model._meta.get_field(api_settings.USER_ID_FIELD)
        try:
            user_id = field.to_python(refresh.payload.get(api_settings.USER_ID_CLAIM))
        except ValidationError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e
        user = user_model._default_manager.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
        if api_settings.CHECK_REVOKE_TOKEN and refresh.payload.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")

    @staticmethod
    def _blacklist_first(refresh) -> bool:
        """Blacklist the token; False when another request already has (the caller is in a transaction)."""
        jti = refresh.payload[api_settings.JTI_CLAIM]
        # The row lock makes a concurrent refresh of the same token wait here on PostgreSQL; SQLite's
        # IMMEDIATE transactions already run one writer at a time.
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=jti).first()
        if outstanding is None:  # a token issued before the blacklist app was installed
            refresh.outstand()
            outstanding = OutstandingToken.objects.select_for_update().get(jti=jti)
        # BlacklistedToken.token is unique: the loser of any remaining race finds the winner's row.
        _blacklisted, created = BlacklistedToken.objects.get_or_create(token=outstanding)
        return created
