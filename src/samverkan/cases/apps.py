from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "samverkan.cases"
    label = "cases"
