from django.urls import path

from . import views

app_name = "sharing"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("activity/", views.activity, name="activity"),
]
