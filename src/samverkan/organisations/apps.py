from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "samverkan.organisations"
    label = "organisations"
    verbose_name = "Organisations"
