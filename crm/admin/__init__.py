"""The staff UI: thin unfold ModelAdmins over the domain's services and selectors.

Django's admin autodiscovery imports this package; each module registers its own pages.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from crm.admin import accounts, clients, orders  # noqa: F401  (registers the ModelAdmins)

admin.site.site_title = gettext_lazy("CRM")
admin.site.site_header = gettext_lazy("Orders & Clients CRM")
admin.site.index_title = gettext_lazy("Dashboard")
