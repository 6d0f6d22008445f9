"""Vectorised option pricing: Black-76 / Black-Scholes Greeks, implied vol, SVI."""

from bot.pricing.black import Greeks, black76, black_scholes

__all__ = ["Greeks", "black76", "black_scholes"]
