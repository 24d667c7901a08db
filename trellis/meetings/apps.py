from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "trellis.meetings"
    label = "meetings"
    verbose_name = "Weekly couple meetings"
