"""Captured bodies over 2 KiB compressed with LZ4 on PostgreSQL (docs/decisions.md)."""

from django.db import DatabaseError, migrations, transaction


def compression(method):
    def alter(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = apps.get_model("bins", "CapturedRequest")._meta.db_table
        try:  # PostgreSQL 14+, built with LZ4 (as Debian's and the official images are)
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute(
                    f"ALTER TABLE {table} ALTER COLUMN body SET COMPRESSION {method}"
                )
        except DatabaseError:
            pass  # the default, pglz, stays

    return alter


class Migration(migrations.Migration):
    dependencies = [
        ("bins", "0014_delivery_paused"),
    ]

    operations = [
        migrations.RunPython(compression("lz4"), compression("pglz")),
    ]
