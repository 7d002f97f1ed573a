from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "samverkan.jobs"
    label = "jobs"

    def ready(self) -> None:
        from samverkan.jobs import signals  # noqa: F401 - connects the failure scrubber

        # Every app's tasks.py declares its periodic jobs (registry.periodic_job).
        autodiscover_modules("tasks")
