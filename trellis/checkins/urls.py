from django.urls import path

from . import views

app_name = "checkins"
urlpatterns = [
    path("", views.today, name="today"),
    path("history/", views.history, name="history"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/audience/", views.audience, name="audience"),
    path("<uuid:pk>/history/", views.revisions, name="revisions"),
    path("trust/", views.trust, name="trust"),
    path("trust/pause/", views.trust_pause, name="trust_pause"),
    path("trust/<uuid:pk>/", views.trust_detail, name="trust_detail"),
    path("trust/<uuid:pk>/acknowledge/", views.trust_acknowledge, name="trust_acknowledge"),
]
