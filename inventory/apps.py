from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connect the change-log signal handlers (every write of a change-logged model is recorded).
        from inventory.services import changelog  # noqa: F401
