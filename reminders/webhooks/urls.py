"""/webhooks/sms/...: where Twilio posts replies and delivery status."""

from django.urls import path

from reminders.webhooks import views

app_name = "sms-webhooks"

urlpatterns = [
    path("inbound/", views.inbound, name="inbound"),
    path("status/", views.status, name="status"),
]
