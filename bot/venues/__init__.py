"""Venue adapters: the I/O edge between the bot and the exchanges (docs/architecture.md §1, §6).

:mod:`~bot.venues.base` is the protocol, :mod:`~bot.venues.ccxt_venue` the
ccxt adapter with one normaliser per exchange (:mod:`~bot.venues.normalise`),
:mod:`~bot.venues.paper` the paper venue, :mod:`~bot.venues.errors` the one
table of what a failure means, and :mod:`~bot.venues.factory` the run modes.
"""
