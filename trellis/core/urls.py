from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("home/", views.home, name="home"),
    path("help/", views.crisis, name="crisis"),
    path("help/privacy/", views.privacy, name="privacy"),
    path("healthz", views.healthz, name="healthz"),
    path("trivial", views.trivial, name="trivial"),
]
