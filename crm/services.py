"""Writes to clients and orders. The admin, the API, imports and commands all call these."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from crm.models import EMAIL_KEY, Client, Order, normalize_email

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
        Client.objects.alias(email_key=EMAIL_KEY)
        .filter(email_key=normalize_email(client.email))
        .exclude(pk=client.pk)
        .values_list("pk", flat=True)
        .first()
    )
    if existing_id is not None:
        raise ClientEmailTaken(existing_id)


class EditConflict(ValidationError):
    """The row changed after the caller read it (its version moved on); nothing was saved."""

    def __init__(self, row: Client | Order):
        last_change = row.history.order_by("-history_date", "-history_id").first()
        user = last_change.history_user if last_change else None
        values = {
            "user": (user.get_full_name() or user.get_username()) if user else _("another user"),
            "time": formats.date_format(
                timezone.localtime(last_change.history_date if last_change else row.updated_at),
                "SHORT_DATETIME_FORMAT",
            ),
        }
        if isinstance(row, Order):
            message = _("This order was changed by %(user)s at %(time)s; reload the page to see the changes.")
        else:
            message = _("This client was changed by %(user)s at %(time)s; reload the page to see the changes.")
        super().__init__(message % values, code="stale")


def _locked(row: Client | Order, expected_version: int | None = None) -> Client | Order:
    # The row as it is now, locked until the transaction ends (on SQLite the IMMEDIATE
    # transaction already holds the database's write lock).
    current = type(row).objects.select_for_update().get(pk=row.pk)
    if expected_version is not None and current.version != expected_version:
        raise EditConflict(current)
    return current


def _take_row(target: Client | Order, source: Client | Order) -> None:
    # Callers keep their instance: give it the saved row's values.
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def row_check_version(*, row: Client | Order, expected_version: int) -> None:
    """Raise EditConflict unless the row is still at expected_version; it stays locked until the transaction ends."""
    _locked(row, expected_version)


def _save_client(client: Client, *, update_fields: list[str] | None = None) -> Client:
    client.normalize_fields()
    client.full_clean(validate_constraints=False)
    if update_fields is None or "email" in update_fields:
        client_check_email_free(client)
    try:
        with transaction.atomic():
            client.save(update_fields=update_fields)
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


def client_update(*, client: Client, expected_version: int | None = None, **fields: Any) -> Client:
    """Write the given fields of a client onto its current row (EditConflict if it left expected_version)."""
    unknown = set(fields) - set(CLIENT_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"client_update() got unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        # Only the given fields change: a concurrent edit of another field (or an archive) survives,
        # and the search text is rebuilt from the current names, not from a copy read earlier.
        current = _locked(client, expected_version)
        for name, value in fields.items():
            setattr(current, name, "" if value is None and name in ("middle_name", "mobile_phone") else value)
        _save_client(current, update_fields=[*fields, "updated_at"])
    _take_row(client, current)
    return client


def _client_set_status(client: Client, status: str) -> Client:
    with transaction.atomic():
        current = _locked(client)
        if current.status != status:
            current.status = status
            current.save(update_fields=["status", "updated_at"])
    _take_row(client, current)
    return client


def client_archive(*, client: Client) -> Client:
    """Archive a client: it leaves the default lists but keeps its orders and history."""
    return _client_set_status(client, Client.Status.ARCHIVED)


def client_restore(*, client: Client) -> Client:
    """Bring an archived client back to the active list."""
    return _client_set_status(client, Client.Status.ACTIVE)


def client_delete(*, client: Client) -> None:
    """Delete a client for good; refused while it has orders (archive it instead)."""
    if client.orders.exists():
        raise ValidationError(
            _("The client %(name)s has orders and cannot be deleted; archive the client instead.")
            % {"name": client.full_name_reversed},
            code="protected",
        )
    client.delete()


def client_restore_deleted(*, history_record, **fields: Any) -> Client:
    """Bring a deleted client back under its old id, from a history record, with some fields changed."""
    unknown = set(fields) - set(CLIENT_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"client_restore_deleted() got unknown fields: {sorted(unknown)}")
    if Client.objects.filter(pk=history_record.id).exists():
        raise ValidationError(
            _("Client #%(id)s exists; there is nothing to restore.") % {"id": history_record.id}, code="exists"
        )
    client = history_record.instance
    for name, value in fields.items():
        setattr(client, name, "" if value is None and name in ("middle_name", "mobile_phone") else value)
    return _save_client(client)


def _resolve_client(client: Client | int | str | None) -> Client:
    if isinstance(client, Client):
        return client
    if client in (None, ""):
        raise ValidationError({"client": [_("This field is required.")]}, code="required")
    try:
        return Client.objects.get(pk=int(client))
    except (Client.DoesNotExist, TypeError, ValueError, OverflowError):
        raise ValidationError({"client": [_("No client with id %(id)s.") % {"id": client}]}, code="invalid")


def _save_order(order: Order, *, client_changed: bool = True, update_fields: list[str] | None = None) -> Order:
    order.normalize_fields()
    # An unchanged client needs no existence query: PROTECT keeps a client while it has orders.
    order.full_clean(exclude=None if client_changed else ["client"], validate_constraints=False)
    adding = order._state.adding
    # One transaction for the row and its history record (one commit, one disk flush).
    with transaction.atomic():
        order.save(update_fields=update_fields)
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


def order_update(*, order: Order, expected_version: int | None = None, **fields: Any) -> Order:
    """Write the given fields of an order onto its current row (EditConflict if it left expected_version)."""
    unknown = set(fields) - set(ORDER_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"order_update() got unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        # Only the given fields change, so a concurrent edit of another field survives.
        current = _locked(order, expected_version)
        if "client" in fields:
            fields["client"] = _resolve_client(fields["client"])
        for name, value in fields.items():
            setattr(current, name, "" if value is None and name == "description" else value)
        _save_order(current, client_changed="client" in fields, update_fields=[*fields, "updated_at"])
    _take_row(order, current)
    return order


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
    with transaction.atomic():
        # Read and locked inside the transaction, so the history records carry the rows as they are.
        changed = list(
            model.objects.select_for_update().filter(pk__in=rows.values("pk")).exclude(status=status)
        )
        for row in changed:
            row.status = status
            row.updated_at = now
            row.version += 1
        bulk_update_with_history(changed, model, ["status", "updated_at", "version"], batch_size=500)
    return len(changed)


def orders_set_status(*, orders: QuerySet[Order], status: str) -> int:
    """Give many orders one status (bulk actions), recording each change in the history."""
    return _bulk_set_status(rows=orders, model=Order, status=status)


def clients_set_status(*, clients: QuerySet[Client], status: str) -> int:
    """Archive or restore many clients at once, recording each change in the history."""
    return _bulk_set_status(rows=clients, model=Client, status=status)
