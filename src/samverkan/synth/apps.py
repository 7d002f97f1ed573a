from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "samverkan.synth"
    verbose_name = "Synthetic data"
