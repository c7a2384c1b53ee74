"""Incentives: what a retention marketer runs beside points (see loyalty.incentives.config)."""
