"""The application layer's own errors (the domain's are in domain/errors.py). Each entry
point turns them into its answer through the one error map (api/errors.py).

    Exception
    ├── Unauthorized       no valid credential (missing, forged, expired, deactivated user)
    ├── Throttled          too many failed sign-ins; try again after `retry_after` seconds
    ├── IndexBehind        the record index did not reach the asked position in time
    ├── StoreUnavailable   the event store cannot write (disk full, database unreachable)
    └── BrokerUnavailable  the Kafka broker could not create or revoke a recipient's access
"""

from __future__ import annotations


class Unauthorized(Exception):
    """No valid bearer token (missing, forged, expired, or its user is deactivated)."""


class Throttled(Exception):
    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__("too many failed sign-ins; try again later")


class IndexBehind(Exception):
    """The index did not reach the requested position in time (read-your-writes)."""


class StoreUnavailable(Exception):
    """The event store refused a write or a read for a reason of its own (a full disk, an
    unreachable database): nothing was stored, and the caller may retry later."""

    def __init__(self, cause: str, retry_after: int = 5) -> None:
        self.cause = cause
        self.retry_after = retry_after
        super().__init__(f"the record store is unavailable: {cause}")


class BrokerUnavailable(Exception):
    """The Kafka broker could not be reached, or refused a change to a recipient's access
    (its credential, its ACLs): the clinic may issue the credential again later."""

    def __init__(self, cause: str, retry_after: int = 5) -> None:
        self.cause = cause
        self.retry_after = retry_after
        super().__init__(f"the Kafka broker is unavailable: {cause}")
