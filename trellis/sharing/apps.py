from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "trellis.sharing"
    label = "sharing"
    verbose_name = "Sharing and audit"
