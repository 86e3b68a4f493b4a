"""Import/export resources for clients and orders (django-import-export)."""

from import_export import resources

from crm.models import Client, Order


class ClientResource(resources.ModelResource):
    class Meta:
        model = Client
        fields = ("id", "last_name", "first_name", "middle_name", "email", "mobile_phone", "status", "added_at")


class OrderResource(resources.ModelResource):
    class Meta:
        model = Order
        fields = ("id", "client", "product", "quantity", "price", "total_price", "description", "status", "created_at")
