"""Rate limits: the token endpoints per client address, everything else per user."""

from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """Logins and refreshes per client address (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"])."""

    scope = "token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(UserRateThrottle):
    """Requests per authenticated user (rate "user"); anonymous requests are refused before throttling."""

    scope = "user"
