"""Deribit ``deri-hmac-sha256`` request signatures, verified as Deribit specifies.

Header: ``Authorization: deri-hmac-sha256 id=ClientId,ts=Timestamp,sig=Signature,nonce=Nonce``
with ``Signature = HEX(HMAC-SHA256(ClientSecret, ts + "\\n" + nonce + "\\n" + RequestData))``
and ``RequestData = UPPER(method) + "\\n" + URI + "\\n" + body + "\\n"``, where URI is the
path plus query string exactly as sent. A timestamp is valid for 60 seconds.

The emulator checks signatures for real so that a signing bug in the bot (or a
ccxt upgrade that changes how it encodes a query) fails in the simulator, not
on the venue. Pure functions: the caller supplies the time and the key lookup.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from bot.sim.errors import UNAUTHORIZED, SimError

SCHEME = "deri-hmac-sha256"
MAX_CLOCK_SKEW_MS = 60_000
"""Deribit rejects a signed request whose timestamp is more than 60 s from its clock."""

INVALID_CREDENTIALS = 13004
"""Deribit ``invalid_credentials``: the client id is not a key of this venue."""


@dataclass(frozen=True, slots=True)
class SignedHeader:
    """The parts of a ``deri-hmac-sha256`` Authorization header."""

    client_id: str
    ts_ms: int
    sig: str
    nonce: str


def request_data(method: str, uri: str, body: str) -> str:
    """Deribit's RequestData: upper-case HTTP method, URI with query, body, each line-ended."""
    return f"{method.upper()}\n{uri}\n{body}\n"


def signature(secret: str, ts_ms: int, nonce: str, data: str) -> str:
    """Hex HMAC-SHA256 of ``ts + "\\n" + nonce + "\\n" + data`` keyed by ``secret``."""
    message = f"{ts_ms}\n{nonce}\n{data}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def parse_authorization(header: str) -> SignedHeader:
    """Split a ``deri-hmac-sha256`` header into its fields; 13009 when it is malformed."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != SCHEME:
        raise _unauthorized(f"Authorization scheme must be {SCHEME}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise _unauthorized(f"malformed Authorization field {name!r}")
        fields[name.strip()] = value.strip()
    missing = [name for name in ("id", "ts", "sig", "nonce") if not fields.get(name)]
    if missing:
        raise _unauthorized(f"Authorization header lacks {', '.join(missing)}")
    try:
        ts_ms = int(fields["ts"])
    except ValueError:
        raise _unauthorized("Authorization ts must be integer milliseconds") from None
    return SignedHeader(fields["id"], ts_ms, fields["sig"], fields["nonce"])


def authenticate(
    header: str | None,
    *,
    method: str,
    uri: str,
    body: str,
    secret_for_key: Callable[[str], str | None],
    now_ms: int,
    max_skew_ms: int = MAX_CLOCK_SKEW_MS,
) -> str:
    """The client id of a correctly signed request; a Deribit auth error otherwise.

    An unknown client id is 13004 ``invalid_credentials``; a missing or
    malformed header, a stale timestamp or a wrong signature is 13009
    ``unauthorized``. ``now_ms`` is wall-clock time: clients sign with theirs.
    """
    if not header:
        raise _unauthorized("missing Authorization header")
    signed = parse_authorization(header)
    secret = secret_for_key(signed.client_id)
    if secret is None:
        raise SimError(INVALID_CREDENTIALS, "invalid_credentials", {"reason": "unknown client id"})
    if abs(now_ms - signed.ts_ms) > max_skew_ms:
        raise _unauthorized(f"timestamp is more than {max_skew_ms} ms from the server clock")
    expected = signature(secret, signed.ts_ms, signed.nonce, request_data(method, uri, body))
    if not hmac.compare_digest(expected, signed.sig.lower()):
        raise _unauthorized("invalid signature")
    return signed.client_id


def _unauthorized(reason: str) -> SimError:
    return SimError(UNAUTHORIZED, "unauthorized", {"reason": reason})
