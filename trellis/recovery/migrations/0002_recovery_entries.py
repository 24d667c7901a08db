"""Recovery tracks become entries (under `sharing`), and lapses, plans and support messages
arrive. Existing tracks keep their owner as author and start as "only me"."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import trellis.lib.crypto


class Migration(migrations.Migration):
    dependencies = [
        ("couples", "0001_initial"),
        ("recovery", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField("recoverytrack", "owner", "author"),
        migrations.AlterField(
            model_name="recoverytrack",
            name="author",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
