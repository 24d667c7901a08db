from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from trellis.lib.crypto import EncryptedTextField, rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field with the newest key in TRELLIS_FIELD_KEYS. Put the new "
        "key first, keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args: Any, **opts: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(str(model._meta.pk.column))
            cols = [connection.ops.quote_name(str(f.column)) for f in fields]
            # Raw column values: rotate ciphertext to ciphertext, never holding clear text longer
            # than Fernet itself does. Parameterised; table/column names come from the models.
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(f"SELECT {pk}, {', '.join(cols)} FROM {table}")  # noqa: S608
                rows = cur.fetchall()
                for row in rows:
                    new = [rotate(v) if v else v for v in row[1:]]
                    sets = ", ".join(f"{c} = %s" for c in cols)
                    cur.execute(f"UPDATE {table} SET {sets} WHERE {pk} = %s", [*new, row[0]])  # noqa: S608
                    total += 1
            self.stdout.write(f"{model._meta.label}: {len(rows)} rows re-encrypted")
        self.stdout.write(f"Done: {total} rows.")
