from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "trellis.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
