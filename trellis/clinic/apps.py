from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "trellis.clinic"
    label = "clinic"
    verbose_name = "Therapist workspace"
