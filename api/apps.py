from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self):
        from api.signals import connect_user_cache_invalidation

        connect_user_cache_invalidation()
