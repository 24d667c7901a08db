from django.urls import path

from . import views

app_name = "recovery"
urlpatterns = [
    path("", views.home, name="home"),
    path("tracks/new/", views.track_new, name="track_new"),
    path("tracks/<uuid:pk>/", views.track_detail, name="track"),
    path("tracks/<uuid:pk>/edit/", views.track_edit, name="track_edit"),
    path("tracks/<uuid:pk>/end/", views.track_end, name="track_end"),
    path("tracks/<uuid:pk>/audience/", views.track_audience, name="track_audience"),
    path("tracks/<uuid:pk>/lapse/", views.lapse_new, name="lapse_new"),
    path("lapses/<uuid:pk>/", views.lapse_detail, name="lapse"),
    path("lapses/<uuid:pk>/audience/", views.lapse_audience, name="lapse_audience"),
    path("plan/", views.plan_edit, name="plan_edit"),
    path("plans/<uuid:pk>/", views.plan_detail, name="plan"),
    path("struggling/", views.struggling, name="struggling"),
    path("messages/<uuid:pk>/", views.message_detail, name="message"),
    path("messages/<uuid:pk>/reply/", views.message_reply, name="message_reply"),
]
