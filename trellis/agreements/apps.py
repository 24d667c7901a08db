from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "trellis.agreements"
    label = "agreements"
    verbose_name = "Agreements"
