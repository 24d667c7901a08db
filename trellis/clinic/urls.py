from django.urls import path

from . import views

app_name = "clinic"
urlpatterns = [
    # The therapist.
    path("", views.caseload, name="caseload"),
    path("invite/", views.invite, name="invite"),
    path("invitations/<uuid:pk>/cancel/", views.invite_cancel, name="invite_cancel"),
    path("couples/<uuid:link_id>/", views.couple, name="couple"),
    path("couples/<uuid:link_id>/end/", views.couple_end, name="couple_end"),
    path("couples/<uuid:link_id>/homework/new/", views.homework_new, name="homework_new"),
    path(
        "couples/<uuid:link_id>/appointments/new/",
        views.appointment_new,
        name="appointment_new",
    ),
    path("couples/<uuid:link_id>/notes/", views.notes, name="notes"),
    path("couples/<uuid:link_id>/notes/new/", views.note_new, name="note_new"),
    path("assigned/<uuid:homework_id>/cancel/", views.homework_cancel, name="homework_cancel"),
    path(
        "appointments/<uuid:appointment_id>/cancel/",
        views.appointment_cancel,
        name="appointment_cancel",
    ),
    path("notes/<uuid:note_id>/", views.note_edit, name="note_edit"),
    path("notes/<uuid:note_id>/delete/", views.note_delete, name="note_delete"),
    path("settings/", views.therapist_settings, name="settings"),
    # The couple.
    path("therapists/", views.therapists, name="therapists"),
    path("link/", views.link_code, name="link_code"),
    path("link/<str:token>/", views.link_token, name="link_token"),
    path("therapists/<uuid:link_id>/", views.consent, name="consent"),
    path("therapists/<uuid:link_id>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("therapists/<uuid:link_id>/end/", views.link_end, name="link_end"),
    path("homework/", views.my_homework, name="my_homework"),
    path("homework/<uuid:homework_id>/", views.homework_detail, name="homework"),
    path("done/<uuid:pk>/", views.completion, name="completion"),
    path("done/<uuid:pk>/audience/", views.completion_audience, name="completion_audience"),
    path("done/<uuid:pk>/delete/", views.completion_delete, name="completion_delete"),
    path("done/<uuid:pk>/seen/", views.completion_readers, name="completion_readers"),
    # The clinic administrator.
    path("admin/", views.clinic_admin, name="admin"),
    path("admin/members/<uuid:pk>/end/", views.clinic_member_end, name="member_end"),
    path(
        "admin/invitations/<uuid:pk>/cancel/",
        views.clinic_invitation_cancel,
        name="clinic_invitation_cancel",
    ),
    path("join/<str:token>/", views.clinic_join, name="join"),
]
