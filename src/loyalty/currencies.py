"""Active ISO 4217 currency codes and their minor units (decimal places).

Money is quantized to its currency's minor unit: cents for USD and EUR, none
for JPY and KRW, three places for KWD and BHD. Funds codes (BOV, CLF, ...) are
included; precious metals and testing codes (XAU, XTS, XXX) are not, because a
loyalty program does not price in them.
"""

from __future__ import annotations

from types import MappingProxyType

_TWO_DECIMALS = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN
BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP
GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT
LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN
NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE
SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES
WST XCD XCG YER ZAR ZMW ZWG
"""
_ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMALS = "CLF UYW"

MINOR_UNITS: MappingProxyType[str, int] = MappingProxyType(
    {
        **dict.fromkeys(_TWO_DECIMALS.split(), 2),
        **dict.fromkeys(_ZERO_DECIMALS.split(), 0),
        **dict.fromkeys(_THREE_DECIMALS.split(), 3),
        **dict.fromkeys(_FOUR_DECIMALS.split(), 4),
    }
)
"""Minor units by currency code, e.g. ``MINOR_UNITS["JPY"] == 0``."""
