"""App configuration for next-best actions: the projection, its schedule, and what the
app adds to crm's screens (screen pop, patient page, patient list, dashboard)."""

from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "engagement"
    verbose_name = "Next-best actions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm import extensions, schedules
        from crm.projections import runner
        from engagement import screens
        from engagement.projection import PROJECTION

        if PROJECTION.name not in runner.registered():
            runner.register(PROJECTION)
        schedules.add(
            schedules.RecurringJob(
                name="engagement: re-evaluate due suggestions",
                func="engagement.tasks.reevaluate_due_suggestions",
                minutes=1,
            )
        )
        extensions.register_screen_pop_section(screens.SCREEN_POP)
        extensions.register_patient_panel(screens.PANEL)
        extensions.register_patient_count(screens.COUNT)
        extensions.register_dashboard_section(screens.DASHBOARD)
