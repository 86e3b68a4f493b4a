"""Writes to clients and orders. The admin, the API, imports and commands all call these."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from crm.models import Client, Order, normalize_email

CLIENT_EDITABLE_FIELDS = ("first_name", "last_name", "middle_name", "mobile_phone", "email", "status")
ORDER_EDITABLE_FIELDS = ("client", "product", "quantity", "price", "description", "status")


class ClientEmailTaken(ValidationError):
    """The e-mail belongs to another client; carries that client's id (the API answers 409)."""

    def __init__(self, existing_client_id: int):
        self.existing_client_id = existing_client_id
        super().__init__({"email": [_("A client with this e-mail already exists.")]}, code="duplicate")


def client_check_email_free(client: Client) -> None:
    """Raise ClientEmailTaken when another client already has this client's e-mail (any case)."""
    existing_id = (
        Client.objects.filter(email__iexact=normalize_email(client.email))
        .exclude(pk=client.pk)
        .values_list("pk", flat=True)
        .first()
    )
    if existing_id is not None:
        raise ClientEmailTaken(existing_id)


def _save_client(client: Client) -> Client:
    client.normalize_fields()
    client.full_clean(validate_constraints=False)
    client_check_email_free(client)
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError:
        # Another request registered the same e-mail between our check and our insert.
        client_check_email_free(client)
        raise
    return client


def client_create(
    *,
    first_name: str,
    last_name: str,
    email: str,
    middle_name: str = "",
    mobile_phone: str = "",
    status: str = Client.Status.ACTIVE,
) -> Client:
    """Create a client after validating it like every other entry point does."""
    client = Client(
        first_name=first_name,
        last_name=last_name,
        email=email,
        middle_name=middle_name or "",
        mobile_phone=mobile_phone or "",
        status=status,
    )
    return _save_client(client)


def client_update(*, client: Client, **fields: Any) -> Client:
    """Change some fields of a client; unknown field names are a programming error."""
    unknown = set(fields) - set(CLIENT_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"client_update() got unknown fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(client, name, "" if value is None and name in ("middle_name", "mobile_phone") else value)
    return _save_client(client)


def client_archive(*, client: Client) -> Client:
    """Archive a client: it leaves the default lists but keeps its orders and history."""
    if client.status != Client.Status.ARCHIVED:
        client.status = Client.Status.ARCHIVED
        client.save(update_fields=["status", "updated_at"])
    return client


def client_restore(*, client: Client) -> Client:
    """Bring an archived client back to the active list."""
    if client.status != Client.Status.ACTIVE:
        client.status = Client.Status.ACTIVE
        client.save(update_fields=["status", "updated_at"])
    return client


def client_delete(*, client: Client) -> None:
    """Delete a client for good; refused while it has orders (archive it instead)."""
    if client.orders.exists():
        raise ValidationError(
            _("The client %(name)s has orders and cannot be deleted; archive the client instead.")
            % {"name": client.full_name_reversed},
            code="protected",
        )
    client.delete()


def _resolve_client(client: Client | int | str | None) -> Client:
    if isinstance(client, Client):
        return client
    if client in (None, ""):
        raise ValidationError({"client": [_("This field is required.")]}, code="required")
    try:
        return Client.objects.get(pk=int(client))
    except (Client.DoesNotExist, TypeError, ValueError, OverflowError):
        raise ValidationError({"client": [_("No client with id %(id)s.") % {"id": client}]}, code="invalid")


def _save_order(order: Order, *, client_changed: bool = True) -> Order:
    order.normalize_fields()
    # An unchanged client needs no existence query: PROTECT keeps a client while it has orders.
    order.full_clean(exclude=None if client_changed else ["client"], validate_constraints=False)
    adding = order._state.adding
    # One transaction for the row and its history record (one commit, one disk flush).
    with transaction.atomic():
        order.save()
        # total_price is computed by the database: an INSERT returns it (RETURNING), after an
        # UPDATE read it back so callers see it.
        if not adding:
            order.refresh_from_db(fields=["total_price"])
    return order


def order_create(
    *,
    client: Client | int,
    product: str,
    price: Decimal | str,
    quantity: int = 1,
    description: str = "",
    status: str = Order.Status.PENDING,
) -> Order:
    """Take a new order for a client (active or archived)."""
    order = Order(
        client=_resolve_client(client),
        product=product,
        quantity=quantity,
        price=price,
        description=description or "",
        status=status,
    )
    return _save_order(order)


def order_update(*, order: Order, **fields: Any) -> Order:
    """Change some fields of an order; the total is recomputed by the database."""
    unknown = set(fields) - set(ORDER_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"order_update() got unknown fields: {sorted(unknown)}")
    if "client" in fields:
        fields["client"] = _resolve_client(fields["client"])
    for name, value in fields.items():
        setattr(order, name, "" if value is None and name == "description" else value)
    return _save_order(order, client_changed="client" in fields)


def order_delete(*, order: Order) -> None:
    """Delete an order; its history keeps a copy it can be restored from."""
    order.delete()


def order_restore(*, history_record) -> Order:
    """Bring a deleted order back under its old id, from its last history record."""
    if Order.objects.filter(pk=history_record.id).exists():
        raise ValidationError(
            _("Order #%(id)s exists; there is nothing to restore.") % {"id": history_record.id}, code="exists"
        )
    return _save_order(history_record.instance)


def _bulk_set_status(*, rows: QuerySet, model: type[Client] | type[Order], status: str) -> int:
    """Give many rows one status in a few queries, recording each change in the history."""
    if status not in model.Status.values:
        raise ValidationError(_("Unknown status: %(status)s.") % {"status": status}, code="invalid")
    now = timezone.now()
    changed = list(rows.exclude(status=status))
    for row in changed:
        row.status = status
        row.updated_at = now
    with transaction.atomic():
        bulk_update_with_history(changed, model, ["status", "updated_at"], batch_size=500)
    return len(changed)


def orders_set_status(*, orders: QuerySet[Order], status: str) -> int:
    """Give many orders one status (bulk actions), recording each change in the history."""
    return _bulk_set_status(rows=orders, model=Order, status=status)


def clients_set_status(*, clients: QuerySet[Client], status: str) -> int:
    """Archive or restore many clients at once, recording each change in the history."""
    return _bulk_set_status(rows=clients, model=Client, status=status)
