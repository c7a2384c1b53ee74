"""A quote as Rich tables (``loyalty quote``): the points by line and by rule, each
reward eligible or not with its reasons and shortfalls, the offers applied or
skipped, the member's coupons, choices and cashback, and the best reward.

Every text of the engine is printed as text, never read as Rich markup (a reason
may hold brackets).
"""

from __future__ import annotations

from datetime import tzinfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from loyalty.checkout.quote import Quote
from loyalty.hurdles import Check
from loyalty.money import Money
from loyalty.stacking.engine import Applied, Skipped

__all__ = ["print_quote", "why_not"]


def why_not(check: Check) -> str:
    """Each unmet condition of ``check``, one a line: its reason, and what is short."""
    lines = []
    for item in check.unmet():
        short = ""
        if item.shortfall is not None and str(item.shortfall) not in item.reason:
            short = f" (short by {_shortfall(item)})"
        lines.append(f"{item.reason}{short}")
    return "\n".join(lines)


_COUNTED = {
    "cost": "point(s)",
    "min_points": "point(s)",
    "repeat_order": "completed order(s)",
    "min_units": "unit(s)",
    "min_items": "product(s)",
}
"""What the whole-number shortfall of a condition counts."""


def _shortfall(check: Check) -> str:
    if isinstance(check.shortfall, Money):
        return str(check.shortfall)
    return f"{check.shortfall} {_COUNTED.get(check.condition, 'for ' + check.condition)}"


def _money(value: Money | None) -> str:
    return "-" if value is None else str(value)


def print_quote(console: Console, quote: Quote, zone: tzinfo | None = None) -> None:
    """Print ``quote`` on ``console`` (see the module); its instant in ``zone`` (the
    program's timezone), if given."""
    at = quote.at.astimezone(zone) if zone is not None else quote.at
    console.print(
        Text(
            f"Cart {quote.cart_id} for member {quote.member_id} at {at.isoformat()}: "
            f"{quote.available_points} points available",
            style="bold",
        )
    )
    console.print(_earn(quote))
    if quote.earn.rules or quote.earn.shipping_points:
        console.print(_rules(quote))
    for note in quote.earn.notes:
        console.print(Text(f"note: {note}", style="dim"))
    if quote.shipping_benefit is not None:
        console.print(Text(f"Tier benefit: free shipping ({quote.shipping_benefit} off)"))
    console.print(_rewards(quote))
    offers = quote.offers
    if offers:
        console.print(_offers(offers))
    if quote.coupons or quote.entered:
        console.print(_coupons(quote))
    for choice in quote.choices:
        left = f" ({choice.ends_in})" if choice.ends_in else ""
        console.print(Text(f"Choice to make: {choice.title}: {', '.join(choice.options)}{left}"))
    held = quote.wallet
    if held is not None and held.credited.amount:
        console.print(
            Text(
                f"Cashback: {held.available} spendable, {held.pending} pending; "
                f"{_money(quote.wallet_payable)} can pay this cart"
            )
        )
    best = quote.best
    if best is None:
        console.print(Text("Best reward: none is eligible on this cart", style="bold"))
    else:
        console.print(
            Text(
                f"Best reward: {best.reward} ({best.title}): {best.value} off "
                f"for {best.points} points",
                style="bold green",
            )
        )


def _earn(quote: Quote) -> Table:
    earn = quote.earn
    table = Table(title=f"Earns {earn.points} points on {earn.basis}", title_justify="left")
    for column in ("Line", "SKU", "Qty", "Basis", "x", "Points", "Rules"):
        justify = "right" if column in ("Qty", "Basis", "x", "Points") else "left"
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for line in earn.lines:
        rules = f"excluded: {line.excluded}" if line.excluded else ", ".join(line.rules)
        table.add_row(
            Text(line.line),
            Text(line.sku),
            str(line.quantity),
            str(line.basis),
            str(line.multiplier),
            str(line.points),
            Text(rules),
        )
    return table


def _rules(quote: Quote) -> Table:
    earn = quote.earn
    table = Table(title="Points by rule", title_justify="left")
    table.add_column("Rule")
    table.add_column("Points", justify="right")
    table.add_column("Why")
    for rule in earn.rules:
        table.add_row(Text(rule.rule), f"{rule.points:+d}", Text(rule.reason))
    if earn.shipping_points:
        table.add_row("shipping", f"{earn.shipping_points:+d}", "points on the shipping")
    return table


def _rewards(quote: Quote) -> Table:
    table = Table(title="Rewards", title_justify="left")
    for column in ("Reward", "Cost", "Takes off", "Eligible", "Why not"):
        table.add_column(column, justify="right" if column in ("Cost", "Takes off") else "left")
    for option in quote.rewards:
        eligible = Text("yes", style="green") if option.eligible else Text("no", style="red")
        table.add_row(
            Text(f"{option.reward}\n{option.title}"),
            str(option.points),
            _money(option.value) if option.eligible else "-",
            eligible,
            Text("" if option.eligible else why_not(option.check)),
        )
    if not quote.rewards:
        table.add_row("(none the member sees)", "", "", "", "")
    return table


def _offers(offers: tuple[Applied | Skipped, ...]) -> Table:
    table = Table(title="Offers", title_justify="left")
    for column in ("Offer", "Applied", "Takes off", "Lines / why not"):
        table.add_column(column, justify="right" if column == "Takes off" else "left")
    for item in offers:
        label = Text(item.candidate.label)
        if isinstance(item, Applied):
            parts = [f"{part.line} {part.amount}" for part in item.lines]
            if item.shipping is not None:
                parts.append(f"shipping {item.shipping}")
            if item.note:
                parts.append(f"({item.note}; wanted {item.wanted})")
            table.add_row(label, Text("yes", "green"), str(item.amount), Text(", ".join(parts)))
        else:
            detail = item.reason
            if item.check is not None:
                extra = why_not(item.check)
                detail = detail if not extra or extra == detail else f"{detail}\n{extra}"
            table.add_row(label, Text("no", "red"), "-", Text(detail))
    return table


def _coupons(quote: Quote) -> Table:
    table = Table(title="Coupons", title_justify="left")
    for column in ("Code", "Coupon", "Usable", "Takes off", "Why not / ends"):
        table.add_column(column, justify="right" if column == "Takes off" else "left")
    for coupon in quote.coupons:
        if coupon.applied:
            state = Text("applied", "green")
        else:
            state = Text("yes", "green") if coupon.eligible else Text("no", "red")
        detail = "" if coupon.eligible or coupon.applied else why_not(coupon.check)
        if coupon.ends_in:
            detail = f"{detail}\n{coupon.ends_in}".strip()
        table.add_row(
            Text(coupon.code), Text(coupon.title), state, _money(coupon.takes_off), Text(detail)
        )
    for code in quote.entered:
        answer = code.option.check.reason if code.option is not None else code.answer
        table.add_row(Text(code.code), "(entered)", "", "", Text(answer))
    return table
