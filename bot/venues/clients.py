"""Building ccxt clients: the only place credentials and URLs meet.

Order matters. ``set_sandbox_mode(True)`` swaps ccxt's URL table for the
testnet one, so it runs before any URL override (an override applied first
would be thrown away, or worse, kept as a mainnet URL for testnet keys).
Credentials are set last, after the URL checks have passed, and only on the
client object: they are never logged, and ccxt's own DEBUG records (which
dump request headers, i.e. API keys and OKX's passphrase) are cut off at
the client's dedicated logger.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ccxt.async_support as ccxt_async

from bot.secrets import VenueCredentials
from bot.venues.base import StartupError
from bot.venues.errors import no_write_retries
from bot.venues.normalise import normaliser_for

DEFAULT_TIMEOUT_MS = 10_000


def _urls(tree: object) -> Iterator[str]:
    if isinstance(tree, str):
        yield tree
    elif isinstance(tree, Mapping):
        for value in tree.values():
            yield from _urls(value)


def _hosts(client: Any, tree: object) -> set[str]:
    hostname = str(getattr(client, "hostname", "") or "")
    hosts = set()
    for url in _urls(tree):
        host = urlsplit(url.replace("{hostname}", hostname)).hostname
        if host:
            hosts.add(host)
    return hosts


def _rebase(tree: object, base: str) -> object:
    """``tree`` (ccxt's ``urls['api']``) with every URL's scheme and host taken from ``base``.

    Paths are kept (Binance serves each API family under its own path) and
    prefixed with ``base``'s path.
    """
    if isinstance(tree, Mapping):
        return {key: _rebase(value, base) for key, value in tree.items()}
    if not isinstance(tree, str):
        return tree
    to, parts = urlsplit(base), urlsplit(tree)
    return urlunsplit((to.scheme, to.netloc, to.path.rstrip("/") + parts.path, parts.query, ""))


def network_hosts(exchange: str) -> tuple[set[str], set[str]]:
    """(mainnet hosts, testnet hosts) of an exchange, from ccxt's own URL tables."""
    fresh = getattr(ccxt_async, exchange)()
    main = _hosts(fresh, fresh.urls.get("api"))
    test = _hosts(fresh, fresh.urls.get("test")) - main
    return main, test


def check_network(exchange: str, client: Any, *, testnet: bool) -> None:
    """Refuse testnet keys against a mainnet host, and mainnet keys against a testnet host."""
    main, test = network_hosts(exchange)
    if not test:  # OKX: one host, the demo network is selected by a header
        demo = (client.headers or {}).get("x-simulated-trading") == "1"
        if demo != testnet:
            net = "demo-trading" if demo else "live"
            raise StartupError(f"{exchange}: the client is set up for {net} trading, not the keys'")
        return
    hosts = _hosts(client, client.urls.get("api"))
    if testnet and hosts & (main - test):
        raise StartupError(
            f"{exchange}: testnet credentials would be sent to the mainnet host(s) "
            f"{', '.join(sorted(hosts & main))}; fix api_url or set testnet = false"
        )
    if not testnet and hosts & test:
        raise StartupError(
            f"{exchange}: live credentials would be sent to the testnet host(s) "
            f"{', '.join(sorted(hosts & test))}; fix api_url or set testnet = true"
        )


def ccxt_client(
    exchange: str,
    *,
    credentials: VenueCredentials | None = None,
    testnet: bool = False,
    api_url: str | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    make: Callable[[dict[str, Any]], Any] | None = None,
) -> Any:
    """A configured ``ccxt.async_support`` client for ``exchange``.

    ``testnet`` turns on ccxt's sandbox mode before ``api_url`` is applied
    (which rebases the websocket URLs too). With credentials, the final hosts
    are checked against the key's network. ``make`` builds another class of
    client for the exchange (a ccxt.pro streaming one), configured the same way.
    """
    normaliser = normaliser_for(exchange)
    options = copy.deepcopy(dict(normaliser.ccxt_options))
    client = (make or getattr(ccxt_async, exchange))(
        {"timeout": timeout_ms, "enableRateLimit": True, "options": options}
    )
    client.has["fetchCurrencies"] = normaliser.fetch_currencies
    normaliser.configure_client(client)
    client.verbose = False
    client.logger = logging.getLogger(f"bot.venues.ccxt.{exchange}")
    client.logger.setLevel(logging.INFO)  # ccxt's DEBUG records carry auth headers
    no_write_retries(client)
    if testnet:
        client.set_sandbox_mode(True)
    if api_url is not None:
        client.urls["api"] = _rebase(client.urls["api"], api_url)
    if credentials is not None:
        check_network(exchange, client, testnet=testnet)
        client.apiKey = credentials.api_key.get_secret_value()
        client.secret = credentials.api_secret.get_secret_value()
        if credentials.password is not None:
            client.password = credentials.password.get_secret_value()
    return client
