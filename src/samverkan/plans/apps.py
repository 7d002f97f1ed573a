from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "samverkan.plans"
    label = "plans"
