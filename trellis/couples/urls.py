from django.urls import path

from . import views

app_name = "couples"
urlpatterns = [
    path("", views.couple_home, name="home"),
    path("invite/", views.invite, name="invite"),
    path("invite/cancel/", views.invite_cancel, name="invite_cancel"),
    path("join/", views.join_code, name="join_code"),
    path("join/<str:token>/", views.join_link, name="join_link"),
    path("leave/", views.leave, name="leave"),
]
