"""Who may do what on the Kafka broker: each connection's credentials, and the SCRAM
credential and ACLs each directory entry gets (issue 12, item 10).

The broker outside organisations connect to speaks SASL_SSL only: SCRAM-SHA-512 over TLS,
the broker's certificate checked against the CA file settings name. Its StandardAuthorizer
allows nothing that no ACL allows. `BrokerAccess` holds the clinic's admin credential and,
when a recipient is added to the directory, creates for it:

- a SCRAM-SHA-512 credential, user `share-<entry id>`, with a new random password that is
  answered once and kept nowhere (the broker keeps a salted hash; no event holds it);
- its topic (`adapters.relay.topic_for`), and ACLs letting that user Read its own topic and
  its own consumer group (`tandem-receiver-<topic>`), and nothing else;
- ACLs letting the relay's user Write (and Create, which the relay's topic check asks for)
  that one topic: the relay is no super user, and writes only to the topics of entries in
  the directory.

Removing the entry deletes its credential, every ACL naming its user or its topic, and the
topic itself (the copies shared with it): a client still connected is refused at its next
request, and a new connection cannot authenticate.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from typing import Any

from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)
from kafka.errors import KafkaError, TopicAlreadyExistsError

from adapters.kafka_connection import MECHANISM, KafkaConnection
from adapters.relay import PARTITIONS, group_for, topic_for
from application.errors import BrokerUnavailable
from application.ports import ShareAccess
from application.schemas.directory import BrokerCredential
from domain.directory import Recipient

logger = logging.getLogger("tandem.kafka")


def username_for(entry: Recipient) -> str:
    """The broker user of a directory entry (its id: names and emails stay off the broker)."""
    return f"share-{entry.entry_id}"


def _acl(principal: str, operation: ACLOperation, kind: ResourceType, name: str) -> ACL:
    return ACL(
        principal=principal,
        host="*",
        operation=operation,
        permission_type=ACLPermissionType.ALLOW,
        resource_pattern=ResourcePattern(kind, name, ACLResourcePatternType.LITERAL),
    )


class BrokerAccess(ShareAccess):
    """Creates and revokes directory entries' access to the broker (the admin credential
    is a super user of the broker; see scripts/kafka.sh)."""

    def __init__(self, admin: KafkaConnection, relay_username: str, wait: float = 10.0) -> None:
        self.admin = admin
        self.relay_principal = f"User:{relay_username}"
        self.wait = wait

    def acls_for(self, entry: Recipient) -> list[ACL]:
        user = f"User:{username_for(entry)}"
        topic = topic_for(entry.names)
        return [
            _acl(user, ACLOperation.READ, ResourceType.TOPIC, topic),
            _acl(user, ACLOperation.READ, ResourceType.GROUP, group_for(entry.names)),
            _acl(self.relay_principal, ACLOperation.WRITE, ResourceType.TOPIC, topic),
            _acl(self.relay_principal, ACLOperation.CREATE, ResourceType.TOPIC, topic),
        ]

    def issue(self, entry: Recipient) -> BrokerCredential:
        """A new credential for `entry` (replacing any earlier one), its topic and its ACLs;
        returns once the broker enforces them. The password is in the answer and nowhere else."""
        password = secrets.token_urlsafe(32)
        username = username_for(entry)
        topic = topic_for(entry.names)
        with self._admin() as admin:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(
                    {topic: {"num_partitions": PARTITIONS, "replication_factor": 1}},
                    timeout_ms=10_000,
                )
            failed = admin.alter_user_scram_credentials(
                [UserScramCredentialUpsertion(username, MECHANISM, password)]
            )
            if failed.get(username):
                raise BrokerUnavailable(f"the broker refused {username}'s credential: {failed}")
            created = admin.create_acls(self.acls_for(entry))
            if created["failed"]:
                raise BrokerUnavailable(f"the broker refused ACLs: {created['failed']}")
            self._until(admin, lambda: self._enforced(admin, entry, present=True))
        logger.info("issued the broker credential %s for topic %s", username, topic)
        return BrokerCredential(
            username=username,
            password=password,
            mechanism=MECHANISM,
            topic=topic,
            group=group_for(entry.names),
        )

    def revoke(self, entry: Recipient) -> None:
        """Delete the entry's credential, every ACL on its user or its topic, and its topic."""
        username = username_for(entry)
        topic = topic_for(entry.names)
        with self._admin() as admin:
            admin.alter_user_scram_credentials(
                [UserScramCredentialDeletion(username, ScramMechanism.SCRAM_SHA_512)]
            )  # an error for a user without one (issued while no broker was set) is fine
            admin.delete_acls(
                [
                    ACLFilter(
                        principal=f"User:{username}",
                        host=None,
                        operation=ACLOperation.ANY,
                        permission_type=ACLPermissionType.ANY,
                        resource_pattern=ResourcePatternFilter(
                            ResourceType.ANY, None, ACLResourcePatternType.ANY
                        ),
                    ),
                    ACLFilter(
                        principal=None,
                        host=None,
                        operation=ACLOperation.ANY,
                        permission_type=ACLPermissionType.ANY,
                        resource_pattern=ResourcePatternFilter(
                            ResourceType.TOPIC, topic, ACLResourcePatternType.LITERAL
                        ),
                    ),
                ]
            )
            admin.delete_topics([topic], timeout_ms=10_000, raise_errors=False)
            self._until(admin, lambda: self._enforced(admin, entry, present=False))
        logger.info("revoked the broker credential %s and topic %s", username, topic)

    # --- helpers ------------------------------------------------------------------------

    def _admin(self) -> _Admin:
        return _Admin(self.admin)

    def _enforced(self, admin: KafkaAdminClient, entry: Recipient, present: bool) -> bool:
        """The broker (not only the controller) shows the entry's ACLs and credential."""
        user = username_for(entry)
        acls, _error = admin.describe_acls(
            ACLFilter(
                principal=f"User:{user}",
                host=None,
                operation=ACLOperation.ANY,
                permission_type=ACLPermissionType.ANY,
                resource_pattern=ResourcePatternFilter(
                    ResourceType.ANY, None, ACLResourcePatternType.ANY
                ),
            )
        )
        described = admin.describe_user_scram_credentials([user]).get(user) or {}
        has_credential = bool(described.get("credential_infos"))
        if not present:
            return not acls and not has_credential
        shown = {(a.operation, a.resource_pattern) for a in acls}
        wanted = {
            (a.operation, a.resource_pattern)
            for a in self.acls_for(entry)
            if a.principal == f"User:{user}"
        }
        return wanted <= shown and has_credential

    def _until(self, admin: KafkaAdminClient, done: Any) -> None:
        deadline = time.monotonic() + self.wait
        while not done():
            if time.monotonic() > deadline:
                raise BrokerUnavailable("the broker did not apply the change in time")
            time.sleep(0.05)


class _Admin:
    """An admin client for one change; a broker that cannot be reached is BrokerUnavailable."""

    def __init__(self, connection: KafkaConnection) -> None:
        self.connection = connection
        self.client: KafkaAdminClient | None = None

    def __enter__(self) -> KafkaAdminClient:
        try:
            self.client = KafkaAdminClient(
                **self.connection.configs(), request_timeout_ms=10_000, bootstrap_timeout_ms=10_000
            )
        except KafkaError as exc:
            raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return self.client

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if self.client is not None:
            self.client.close()
        if isinstance(exc, KafkaError):
            raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc
