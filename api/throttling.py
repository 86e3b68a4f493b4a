"""Rate limits: the token endpoints per client address, everything else per user."""

import ipaddress
from array import array

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or behind settings.PROXY_COUNT trusted proxies the X-Forwarded-For entry
    the outermost of them appended. Entries left of it are whatever the client sent, so they are never read.
    Also django-axes' AXES_CLIENT_IP_CALLABLE, so lockouts and rate limits count the same addresses."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    if settings.PROXY_COUNT:
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(hops) >= settings.PROXY_COUNT:
            candidate = hops[-settings.PROXY_COUNT].strip()
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass  # not an address: a misconfigured proxy; the peer's address is at least real
    return remote_addr


class CompactHistoryMixin:
    """Keeps a throttle's request times as array("d"), which the cache pickles far faster than a list of floats."""

    def throttle_success(self):
        if not isinstance(self.history, array):
            self.history = array("d", self.history)
        return super().throttle_success()


class TokenRateThrottle(CompactHistoryMixin, SimpleRateThrottle):
    """Logins and refreshes per client address (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"])."""

    scope = "token"

    def get_ident(self, request):
        return client_address(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(CompactHistoryMixin, UserRateThrottle):
    """Requests per authenticated user (rate "user"); anonymous requests are refused before throttling."""

    scope = "user"

    def get_ident(self, request):
        return client_address(request)
