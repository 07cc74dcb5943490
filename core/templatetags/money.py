"""`{% load money %}`: `{{ amount|money:currency }}` writes an amount as a person reads it, with
its currency's code (`12.50 EUR`; core.currencies.with_currency)."""

from django import template

from core.currencies import with_currency

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    return with_currency(amount, currency)
