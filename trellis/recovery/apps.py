from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    name = "trellis.recovery"
    label = "recovery"
    verbose_name = "Recovery"
