"""The shop's own tables. The loyalty tables are the library's (``loyalty_*``)."""

from django.db import models


class Order(models.Model):
    """An order as the shop records it, once per order id however often its webhook
    is delivered."""

    order_id = models.CharField(max_length=100, unique=True)
    member_id = models.CharField(max_length=100)
    webhook_id = models.CharField(max_length=200)
    placed_at = models.DateTimeField()
