"""The Django admin with the clinic's own site (crm.admin_site.CrmAdminSite).

It takes the place of "django.contrib.admin" in INSTALLED_APPS, as Django documents for
overriding the default admin site. It lives outside the crm.admin package because that
package registers models on import, which must wait until the apps are loaded.
"""

from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    default_site = "crm.admin_site.CrmAdminSite"
