"""App configuration for the core."""

from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "Patients and event store"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import logging

        from crm import checks  # noqa: F401  (registers the deployment checks)
        from crm.eventstore.postgres import PipelineAbortedEcho

        logging.getLogger("psycopg").addFilter(PipelineAbortedEcho())
        from crm.projections import runner
        from crm.projections.churn import ChurnProjection
        from crm.projections.metrics import MetricsProjection

        runner.register(MetricsProjection())
        runner.register(ChurnProjection())

        from crm import schedules
        from crm.fhir import tasks as fhir_tasks
        from crm.voice import tasks as voice_tasks

        fhir_tasks.schedule()  # the EHR sync, when FHIR_SERVER_URL is set
        voice_tasks.schedule()  # ending the calls whose callbacks never came

        schedules.add(
            schedules.RecurringJob(
                name="crm: prune the desk feed",
                func="crm.desk.tasks.prune_desk_feed",
                minutes=60,
            )
        )
