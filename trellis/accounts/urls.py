from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.profile, name="profile"),
    path("tokens/", views.tokens, name="tokens"),
    path("export/", views.export_page, name="export"),
    path("export/download/", views.export_download, name="export_download"),
]
