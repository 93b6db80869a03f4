from django.urls import path

from . import views

app_name = "meetings"

urlpatterns = [
    path("branches/<int:branch_id>/meetings/", views.calendar, name="calendar"),
    path("branches/<int:branch_id>/meetings.csv", views.calendar_csv, name="calendar-csv"),
    path("branches/<int:branch_id>/meetings/mine/", views.own_record, name="own-record"),
    path("meetings/<int:meeting_id>/", views.meeting, name="meeting"),
    path("meetings/<int:meeting_id>/attendance/", views.attendance, name="attendance"),
    path("meetings/<int:meeting_id>/minutes/", views.minutes, name="minutes"),
    path("meetings/<int:meeting_id>/minutes/<str:action>/", views.minutes_signature, name="minutes-signature"),
    path("meetings/<int:meeting_id>/sign-in-sheet/", views.sign_in_sheet, name="sign-in-sheet"),
    path("meetings/votes/<int:vote_id>/ballots/", views.paper_ballots, name="paper-ballots"),
    path("meetings/<int:meeting_id>/calendar.ics", views.meeting_file, name="meeting-file"),
    path("meetings/feed/<str:token>.ics", views.feed, name="feed"),
    path("meetings/<int:meeting_id>/check-in.svg", views.check_in_qr, name="check-in-qr"),
    path("meetings/<int:meeting_id>/here/<str:code>/", views.here, name="here"),
]
