from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    # Django 5's LogoutView accepts POST only; the navigation posts a small form.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("branches/<int:branch_id>/announcements/", views.announcements, name="announcements"),
]
