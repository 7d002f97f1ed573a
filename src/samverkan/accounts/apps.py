from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "samverkan.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Connect the authentication signal receivers that write audit events.
        from samverkan.accounts import signals  # noqa: F401
