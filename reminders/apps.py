from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "SMS reminders"

    def ready(self) -> None:
        from crm import extensions, schedules
        from crm.projections import runner
        from reminders.projections.numbers import SmsNumbersProjection
        from reminders.projections.schedule import ReminderProjection
        from reminders.screens import dashboard_section, patient_panel

        # Both projections: the reminder schedule and the number block list.
        for projection in (ReminderProjection(), SmsNumbersProjection()):
            if projection.name not in runner.registered():
                runner.register(projection)
        schedules.add(
            schedules.RecurringJob(
                name="reminders: dispatch due reminders",
                func="reminders.tasks.dispatch_due",
                minutes=1,
            )
        )
        extensions.register_patient_panel(patient_panel())
        extensions.register_dashboard_section(dashboard_section())
