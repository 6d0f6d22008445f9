"""Simulated world: a seeded market model and a Deribit-semantics exchange engine.

Deterministic for a given seed and sequence of clock readings; the HTTP facade
(``bot.sim.server``) serves :class:`SimExchange` over Deribit's v2 JSON-RPC.
"""
