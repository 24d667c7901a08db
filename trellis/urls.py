from django.urls import include, path

from trellis.api.api import api
from trellis.core import views as core

handler400 = "trellis.core.views.bad_request"
handler403 = "trellis.core.views.permission_denied"
handler404 = "trellis.core.views.not_found"
handler500 = "trellis.core.views.server_error"

urlpatterns = [
    path("", core.landing, name="home"),
    path("", include("trellis.core.urls")),
    path("accounts/", include("allauth.urls")),
    path("settings/", include("trellis.accounts.urls")),
    path("couple/", include("trellis.couples.urls")),
    path("sharing/", include("trellis.sharing.urls")),
    path("journal/", include("trellis.journal.urls")),
    path("checkins/", include("trellis.checkins.urls")),
    path("meetings/", include("trellis.meetings.urls")),
    path("agreements/", include("trellis.agreements.urls")),
    path("recovery/", include("trellis.recovery.urls")),
    path("dashboard/", include("trellis.dashboard.urls")),
    path("clinic/", include("trellis.clinic.urls")),
    path("api/", api.urls),
]
