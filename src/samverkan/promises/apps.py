from django.apps import AppConfig


class PromisesConfig(AppConfig):
    name = "samverkan.promises"
    label = "promises"
