from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "trellis.journal"
    label = "journal"
    verbose_name = "Journal"
