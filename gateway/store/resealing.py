"""Every sealed secret in the database rewritten in one transaction — credentials,
triggers' signature secrets and the version snapshots that copy them — for a change of
`GATEWAY_SECRET_KEY`. The caller supplies `reseal`, which maps a stored JSON value to its
re-encrypted form; nothing here opens a secret."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from gateway.store.errors import translated
from gateway.store.models import Credential, Trigger, WorkflowVersion

Reseal = Callable[[Any], Any]
_SEALED_COLUMNS: tuple[tuple[type[Model], str], ...] = (
    (Credential, "secret"),
    (Trigger, "options"),
    (WorkflowVersion, "definition"),
)


async def reseal_all(reseal: Reseal) -> int:
    """Rows rewritten; a failure (`reseal` raising) rolls everything back."""
    changed = 0
    async with translated("re-encrypt stored secrets"), in_transaction():
        for model, column in _SEALED_COLUMNS:
            for row in await model.all():
                value = getattr(row, column)
                resealed = reseal(value)
                if resealed != value:
                    setattr(row, column, resealed)
                    await row.save(update_fields=[column])
                    changed += 1
    return changed
