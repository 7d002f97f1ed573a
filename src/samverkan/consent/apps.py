from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "samverkan.consent"
    label = "consent"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from samverkan.cases.signals import custodian_linked
        from samverkan.consent import signals

        custodian_linked.connect(signals.custodian_linked, dispatch_uid="consent.custodian_linked")
