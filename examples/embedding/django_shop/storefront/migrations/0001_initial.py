"""The shop's order table (made by ``manage.py makemigrations``)."""

from typing import Any, ClassVar

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: ClassVar[list[tuple[str, str]]] = []

    operations: ClassVar[list[Any]] = [
        migrations.CreateModel(
            name="Order",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("order_id", models.CharField(max_length=100, unique=True)),
                ("member_id", models.CharField(max_length=100)),
                ("webhook_id", models.CharField(max_length=200)),
                ("placed_at", models.DateTimeField()),
            ],
        ),
    ]
