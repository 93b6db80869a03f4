from django.contrib.auth import views as auth_views
from django.urls import path

from . import (
    forum_views,
    member_views,
    moderation_views,
    notification_views,
    passkey_views,
    password_views,
    two_factor_views,
    views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", two_factor_views.LoginCodeView.as_view(), name="login-code"),
    # 通行密钥 (accounts/passkeys.py): JSON for passkeys.js
    path("login/passkey/options/", passkey_views.login_options, name="passkey-login-options"),
    path("login/passkey/", passkey_views.login, name="passkey-login"),
    path("account/passkeys/options/", passkey_views.new_options, name="passkey-new-options"),
    path("account/passkeys/", passkey_views.add, name="passkey-add"),
    # Django 5's LogoutView accepts POST only; the navigation posts a small form.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", views.AccountView.as_view(), name="account"),
    path("account/security/", views.security_log, name="security-log"),
    path("text-size/", views.set_text_size, name="text-size"),
    path("notifications/", notification_views.notifications_page, name="notifications"),
    # 退订: the link in announcement e-mails (accounts/unsubscribe.py)
    path("mail/unsubscribe/<str:token>/", views.unsubscribe_announcements, name="unsubscribe"),
    # 忘记密码: a link to set a new password (by e-mail, or from the branch secretary)
    path("password/forgot/", password_views.ForgotPasswordView.as_view(), name="password-reset"),
    path("password/forgot/sent/", password_views.ResetSentView.as_view(), name="password-reset-sent"),
    path("password/set/<uidb64>/<token>/", password_views.SetPasswordView.as_view(), name="password-reset-confirm"),
    path("password/set/done/", password_views.PasswordSetDoneView.as_view(), name="password-set-done"),
    path("citizen/", views.citizen_start, name="citizen-start"),
    path("citizen/leave/", views.citizen_leave, name="citizen-leave"),
    path("branches/<int:branch_id>/", views.branch_overview, name="branch-overview"),
    path("branches/<int:branch_id>/probation/<int:user_id>/agenda/", views.probation_to_agenda,
         name="probation-agenda"),
    path("branches/<int:branch_id>/probation/<int:user_id>/full/", member_views.probation_full,
         name="probation-full"),
    path("branches/<int:branch_id>/announcements/", views.announcements, name="announcements"),
    path("branches/<int:branch_id>/announcements.csv", views.announcements_csv, name="announcements-csv"),
    path("announcements/<int:announcement_id>/", views.announcement, name="announcement"),
    path("announcements/<int:announcement_id>/remind/", views.remind_readers, name="announcement-remind"),
    path("announcements/<int:announcement_id>/readers.csv", views.readers_csv, name="announcement-readers-csv"),
    path("attachments/<int:attachment_id>/<str:name>", views.attachment, name="attachment"),
    path("branches/<int:branch_id>/announcements/search/", views.announcement_search, name="announcement-search"),
    path("branches/<int:branch_id>/members/", member_views.members, name="members"),
    path("branches/<int:branch_id>/members.csv", member_views.members_csv, name="members-csv"),
    path("branches/<int:branch_id>/members/<int:user_id>/password-link/", member_views.give_password_link,
         name="member-password-link"),
    path("branches/<int:branch_id>/members/add/", member_views.add, name="member-add"),
    path("branches/<int:branch_id>/members/import/", member_views.import_members, name="member-import"),
    path("branches/<int:branch_id>/members/<int:user_id>/standing/", member_views.standing, name="member-standing"),
    path("branches/<int:branch_id>/members/<int:user_id>/remove/", member_views.remove, name="member-remove"),
    path("branches/<int:branch_id>/members/<int:user_id>/name/", member_views.correct_name, name="member-name"),
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
