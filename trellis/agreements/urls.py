from django.urls import path

from . import views

app_name = "agreements"
urlpatterns = [
    path("", views.agreement_home, name="home"),
    path("<uuid:pk>/", views.agreement_detail, name="detail"),
    path("<uuid:pk>/propose/", views.proposal_new, name="propose"),
    path("<uuid:pk>/history/", views.agreement_history, name="history"),
    path("<uuid:pk>/compare/", views.agreement_compare, name="compare"),
    path("<uuid:pk>/print/", views.agreement_print, name="print"),
    path("<uuid:pk>/review/", views.agreement_review, name="review"),
    path("proposals/<uuid:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<uuid:pk>/respond/", views.proposal_respond, name="proposal_respond"),
    path("proposals/<uuid:pk>/counter/", views.proposal_counter, name="proposal_counter"),
    path("proposals/<uuid:pk>/withdraw/", views.proposal_withdraw, name="proposal_withdraw"),
    path("proposals/<uuid:pk>/revise/", views.proposal_revise, name="proposal_revise"),
    path("clauses/<uuid:pk>/", views.clause_text, name="clause_text"),
]
