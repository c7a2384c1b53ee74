"""The shop's URLs: the order webhook and the cart page's quote."""

from django.urls import path
from storefront import views

urlpatterns = [
    path("webhooks/orders", views.order_webhook),
    path("members/<str:member_id>/quote", views.cart_quote),
]
