"""The Django admin with the clinic's own site (crm.admin_site.CrmAdminSite)."""

from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    """Takes the place of "django.contrib.admin" in INSTALLED_APPS, as Django documents for
    overriding the default site. It lives outside crm.admin because that package registers
    models on import, which must wait until the apps are loaded."""

    default_site = "crm.admin_site.CrmAdminSite"
