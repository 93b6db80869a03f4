from django.contrib.auth import views as auth_views
from django.urls import path

from . import forum_views, moderation_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    # Django 5's LogoutView accepts POST only; the navigation posts a small form.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", views.AccountView.as_view(), name="account"),
    path("citizen/", views.citizen_start, name="citizen-start"),
    path("citizen/leave/", views.citizen_leave, name="citizen-leave"),
    path("branches/<int:branch_id>/announcements/", views.announcements, name="announcements"),
    # 微论坛
    path("branches/<int:branch_id>/forum/", forum_views.board_list, name="forum-boards"),
    path("forum/boards/<int:board_id>/", forum_views.board, name="forum-board"),
    path("forum/topics/<int:topic_id>/", forum_views.topic, name="forum-topic"),
    path("forum/search/", forum_views.search, name="forum-search"),
    # Moderators: 审核队列, 敏感词, 操作日志
    path("branches/<int:branch_id>/review/", moderation_views.review_queue, name="review-queue"),
    path("branches/<int:branch_id>/watched-words/", moderation_views.watched_words, name="watched-words"),
    path("branches/<int:branch_id>/audit/", moderation_views.audit_log, name="audit-log"),
]
