from django.apps import AppConfig


class CouplesConfig(AppConfig):
    name = "trellis.couples"
    label = "couples"
    verbose_name = "Couple spaces"
