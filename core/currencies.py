"""The currency an organization keeps its money in (API.md, Organization): an ISO 4217 code.
One organization keeps one currency, nothing is converted; every amount stays a decimal with 2
places, and is shown with its code where a person reads it (`12.50 EUR`)."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import as_money

# ISO 4217's current list (as published in 2026, BGN gone into EUR, XCG for ANG), less the
# codes that price nothing: precious metals (XAG, XAU, XPD, XPT), XTS (testing) and XXX (no
# currency).
_CODES = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP
    PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP
    SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV
    WST XAD XAF XBA XBB XBC XBD XCD XCG XDR XOF XPF XSU XUA YER ZAR ZMW ZWG
"""
ISO_4217 = frozenset(_CODES.split())
CURRENCY_CHOICES = sorted(ISO_4217)


def is_currency(code) -> bool:
    return isinstance(code, str) and code in ISO_4217


def with_currency(amount, currency: str) -> str:
    """An amount as a person reads it: 2 places and the code (`12.50 EUR`); `-` for none."""
    if amount is None:
        return "-"
    return f"{as_money(Decimal(amount)):.2f} {currency}"


@extend_schema_field({"type": "string", "enum": CURRENCY_CHOICES})
class CurrencyField(serializers.ChoiceField):
    """An ISO 4217 code in an answer or a request (the schema lists the codes, nothing more)."""

    def __init__(self, **kwargs):
        super().__init__(choices=CURRENCY_CHOICES, **kwargs)
