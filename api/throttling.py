"""Rate limits: the token endpoints per client address, everything else per user."""

from array import array

from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class CompactHistoryMixin:
    """Keeps a throttle's request times as array("d"), which the cache pickles far faster than a list of floats."""

    def throttle_success(self):
        if not isinstance(self.history, array):
            self.history = array("d", self.history)
        return super().throttle_success()


class TokenRateThrottle(CompactHistoryMixin, SimpleRateThrottle):
    """Logins and refreshes per client address (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"])."""

    scope = "token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(CompactHistoryMixin, UserRateThrottle):
    """Requests per authenticated user (rate "user"); anonymous requests are refused before throttling."""

    scope = "user"
