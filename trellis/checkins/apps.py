from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "trellis.checkins"
    label = "checkins"
    verbose_name = "Daily check-ins"
