"""JWT authentication with a cheap user lookup: it runs on every API request."""

import copy
from time import monotonic, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import BlacklistMixin
from rest_framework_simplejwt.utils import get_md5_hash_password

# This worker's recently authenticated users: user id -> (expiry on the monotonic clock, user with its
# permissions). api/signals.py clears it when a user, group or permission changes in this process; other
# workers see such a change within settings.API_USER_CACHE_SECONDS.
_users = {}
_USERS_MAX = 5000
# Bumped by every clear, so that a lookup which raced a clear does not store the row it read before it.
_generation = 0


# Access tokens this worker verified: raw token -> (its expiry, the validated token). A token's signature and
# claims never change, so verifying it again would only repeat the work; the expiry is checked on every use.
_tokens = {}
_TOKENS_MAX = 5000


def clear_user_cache():
    global _generation
    _generation += 1
    _users.clear()
    _tokens.clear()


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's JWTAuthentication, same checks and messages; a verified token is kept until it expires, and
    the user is read with one raw primary-key query instead of `objects.get()`, whose query building costs three
    times the query, and then kept for API_USER_CACHE_SECONDS."""

    def get_validated_token(self, raw_token):
        entry = _tokens.get(raw_token)
        if entry is not None and time() < entry[0]:
            return entry[1]
        # An expired token goes through simplejwt again, for its leeway and its error message.
        token = super().get_validated_token(raw_token)
        # A token class that can be blacklisted must be looked up every time.
        if not isinstance(token, BlacklistMixin) and isinstance(token.payload.get("exp"), (int, float)):
            if len(_tokens) >= _TOKENS_MAX:
                _tokens.clear()
            _tokens[raw_token] = (token.payload["exp"], token)
        return token

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e

        user = self._user_by_id(user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")

        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")

        if api_settings.CHECK_REVOKE_TOKEN:
            if validated_token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
                raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")

        return user

    def _user_by_id(self, user_id):
        field = self.user_model._meta.get_field(api_settings.USER_ID_FIELD)
        try:
            user_id = field.to_python(user_id)
        except ValidationError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e

        seconds = settings.API_USER_CACHE_SECONDS
        if seconds <= 0:
            return self._read_user(field, user_id)

        entry = _users.get(user_id)
        if entry is not None and monotonic() < entry[0]:
            # Each request gets its own copy; the permission caches on it are shared (Django never mutates them).
            return copy.copy(entry[1])

        generation = _generation
        user = self._read_user(field, user_id)
        if user is None:
            return None
        if user.is_active and not user.is_superuser:
            # Fills ModelBackend's permission caches on the object, so has_perm() costs no queries while cached.
            user.get_all_permissions()
        if generation == _generation:
            if len(_users) >= _USERS_MAX:
                _users.clear()
            _users[user_id] = (monotonic() + seconds, user)
        return copy.copy(user)

    def _read_user(self, field, user_id):
        database = router.db_for_read(self.user_model)
        quote = connections[database].ops.quote_name
        query = f"SELECT * FROM {quote(self.user_model._meta.db_table)} WHERE {quote(field.column)} = %s"
        return next(iter(self.user_model._default_manager.db_manager(database).raw(query, [user_id])), None)
