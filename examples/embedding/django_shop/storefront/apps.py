"""The shop's app. Its ``ready`` creates the process's one LoyaltyService."""

from django.apps import AppConfig


# --8<-- [start:ready]
class StorefrontConfig(AppConfig):
    name = "storefront"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from storefront.services import loyalty_service

        loyalty_service()  # created once per process, at startup; it opens no connection yet
# --8<-- [end:ready]
