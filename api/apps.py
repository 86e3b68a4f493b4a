from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self):
        from api.signals import connect_token_ending, connect_user_cache_invalidation

        connect_user_cache_invalidation()
        connect_token_ending()
