from django.urls import path

from . import views

app_name = "meetings"
urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("<uuid:pk>/", views.meeting_detail, name="detail"),
    path("<uuid:pk>/answer/", views.meeting_answer, name="answer_save"),
    path("<uuid:pk>/notes/", views.meeting_note, name="note_add"),
    path("<uuid:pk>/close/", views.meeting_close, name="close"),
    path("answers/<uuid:pk>/", views.answer_detail, name="answer"),
    path("notes/<uuid:pk>/", views.note_detail, name="note"),
    path("notes/<uuid:pk>/audience/", views.note_audience, name="note_audience"),
    path("notes/<uuid:pk>/confirm/", views.note_confirm, name="note_confirm"),
]
