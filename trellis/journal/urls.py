from django.urls import path

from . import views

app_name = "journal"
urlpatterns = [
    path("", views.entry_list, name="list"),
    path("new/", views.entry_new, name="new"),
    path("search/", views.entry_search, name="search"),
    path("<uuid:pk>/", views.entry_detail, name="detail"),
    path("<uuid:pk>/card/", views.entry_card, name="card"),
    path("<uuid:pk>/edit/", views.entry_edit, name="edit"),
    path("<uuid:pk>/delete/", views.entry_delete, name="delete"),
    path("<uuid:pk>/audience/", views.entry_audience, name="audience"),
    path("<uuid:pk>/seen/", views.entry_readers, name="readers"),
]
