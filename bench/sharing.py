"""Kafka sharing: relay throughput against kafka-python's raw producer to the same broker,
and event -> receiver-view latency (p50/p99), measured in one run.

Against the secured broker scripts/kafka.sh starts, with the credentials it writes in its
runtime dir (found as the tests find them: TANDEM_KAFKA_PORT, TANDEM_KAFKA_DIR): the bench
practice is issued its broker access as a directory entry is, the relay and the receiver
connect with their own credentials, and the raw producer with the admin's, all over
SASL_SSL. Sizes from the environment: BENCH_SHARING_EVENTS (default 3000) and
BENCH_SHARING_LATENCY_EVENTS (default 300)."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

from kafka import KafkaProducer

from adapters.kafka_connection import KafkaConnection
from adapters.receiver import Receiver, ReceiverStore
from adapters.relay import Checkpoint, Relay, topic_for
from application.clinic import Clinic
from application.schemas.directory import BrokerCredential
from bootstrap import bootstrap
from bootstrap.settings import Settings
from domain.consent import PatientConsents, Purpose
from domain.events import Actor, now
from domain.vocabulary import DataClass, Role
from tests.builders import (
    PRESCRIBER,
    SYSTEM,
    THERAPIST,
    act,
    ago,
    commit,
    register_recipient,
    register_with_team,
)
from tests.conftest import (
    KAFKA_DIR,
    SecuredBroker,
    _test_broker,
    create_kafka_topic,
    delete_kafka_topic,
)

EVENTS = int(os.environ.get("BENCH_SHARING_EVENTS", "3000"))
LATENCY_EVENTS = int(os.environ.get("BENCH_SHARING_LATENCY_EVENTS", "300"))


def consented(clinic: object, organisation: str) -> tuple[uuid.UUID, uuid.UUID]:
    patient = register_with_team(clinic).aggregate_id  # type: ignore[arg-type]
    act(
        clinic,
        patient,
        lambda r: r.add_team_member(  # type: ignore[attr-defined]
            SYSTEM,
            ago(days=20),
            user_id="gp@bench.test",
            role=Role.PRIMARY_CARE,
            organisation=organisation,
        ),
    )
    # The practice is in the directory of recipients (registered once); the grant names it.
    known = clinic.directory().match("organisation", organisation)  # type: ignore[attr-defined]
    entry_id = (
        known.entry_id
        if known is not None
        else register_recipient(
            clinic,  # type: ignore[arg-type]
            SYSTEM,
            kind="organisation",
            name=organisation,
            role=Role.PRIMARY_CARE,
        )
    )
    consents = PatientConsents.open(THERAPIST, ago(days=19), patient)
    consents.grant(
        THERAPIST,
        ago(days=19),
        consent_id=uuid.uuid4(),
        recipient_kind="organisation",
        recipient=organisation,
        recipient_id=entry_id,
        data_classes=[DataClass.MEDICATION],
        purpose=Purpose.TREATMENT,
        valid_from=ago(days=19),
        valid_until=None,
        part2=False,
    )
    commit(clinic, consents)  # type: ignore[attr-defined]
    med = uuid.uuid4()
    act(
        clinic,
        patient,
        lambda r: r.start_medication(  # type: ignore[attr-defined]
            PRESCRIBER,
            ago(days=10),
            medication_id=med,
            drug="sertraline",
            rxnorm="36437",
            dose={"amount": "25", "unit": "mg"},
            schedule={"frequency": "once-daily"},
            indication="major depression",
        ),
    )
    return patient, med


def adherence(
    clinic: object, patient: uuid.UUID, med: uuid.UUID, actor: Actor = PRESCRIBER
) -> None:
    act(
        clinic,
        patient,
        lambda r: r.record_adherence(  # type: ignore[attr-defined]
            actor, now(), medication_id=med, period_days=1, doses_prescribed=1, doses_taken=1
        ),
    )


def latency(
    clinic: Clinic,
    relay: Relay,
    organisation: str,
    pairs: list[tuple[uuid.UUID, uuid.UUID]],
    folder: Path,
    as_recipient: KafkaConnection,
) -> None:
    """Event -> receiver view: the relay and the receiver both running, events written
    one by one, each timed from its recorded time to its arrival in the receiver's store."""
    receiver = Receiver(as_recipient, organisation, ReceiverStore(folder / "rx.sqlite"))
    quiet = 0
    while quiet < 2:  # drain what the throughput run sent before timing anything
        got = receiver.poll_once(1000)
        quiet = quiet + 1 if not (got.new or got.duplicates) else 0
    stop = threading.Event()
    relaying = threading.Thread(target=relay.run_forever, kwargs={"idle": 0.01, "stop": stop})
    relaying.start()
    latencies: list[float] = []

    def receive() -> None:
        # The receiver's own loop, timed: poll, store in its view, commit offsets.
        while len(latencies) < LATENCY_EVENTS and not stop.is_set():
            batches = receiver.consumer.poll(timeout_ms=50, max_records=500)
            envelopes = [r.value for records in batches.values() for r in records]
            if not envelopes:
                continue
            receiver.store.store(envelopes)
            receiver.consumer.commit()
            arrived = time.time()
            latencies.extend(
                arrived - datetime.fromisoformat(e["recorded_at"]).timestamp()
                for e in envelopes
                if e["type"] == "share"
            )

    receiving = threading.Thread(target=receive)
    receiving.start()
    for n in range(LATENCY_EVENTS):
        adherence(clinic, *pairs[n % 10])
        time.sleep(0.01)
    receiving.join(60)
    stop.set()
    relaying.join(30)
    relay.close()
    receiver.close()
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"  event -> receiver view: p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms "
        f"over {len(latencies)} events (goal p99 <= 1 s)"
    )


def main() -> None:
    broker = _test_broker()
    if broker is None:
        raise SystemExit(f"no Kafka credentials in {KAFKA_DIR}: run `bash scripts/kafka.sh`")
    with tempfile.TemporaryDirectory() as tmp:
        clinic = bootstrap(Settings(data_dir=Path(tmp)))
        organisation = f"Bench Practice {uuid.uuid4().hex[:6]}"
        pairs = [consented(clinic, organisation) for _ in range(10)]
        entry = clinic.directory().match("organisation", organisation)
        assert entry is not None
        access = broker.access()
        credential = access.issue(entry)  # its topic, its credential, the relay's Write
        try:
            run(clinic, broker, organisation, pairs, Path(tmp), credential)
        finally:
            access.revoke(entry)


def run(
    clinic: Clinic,
    broker: SecuredBroker,
    organisation: str,
    pairs: list[tuple[uuid.UUID, uuid.UUID]],
    tmp: Path,
    credential: BrokerCredential,
) -> None:
    for n in range(EVENTS - 10):
        adherence(clinic, *pairs[n % 10])
    relay = Relay(clinic, broker.relay, Checkpoint(tmp / "relay.sqlite"), batch=500)
    relay.ensure_topic(topic_for(organisation))
    # Warm-up the producer and metadata, then measure from a fresh checkpoint.
    relay.run_once()
    relay.checkpoint.set(0)
    started = time.perf_counter()
    envelopes = relay.run_once()
    relay_rate = envelopes / (time.perf_counter() - started)
    sample = relay.envelopes_for(
        clinic.position(),
        clinic.mapper.to_domain_event(
            clinic.recorder.select_notifications(start=clinic.position(), limit=1)[0]
        ),
    )
    payload = json.dumps(next(iter(sample)).value, sort_keys=True).encode()

    raw = KafkaProducer(**broker.admin.configs(), acks="all", enable_idempotence=True, linger_ms=5)
    topic = create_kafka_topic(broker.admin, prefix="tandem-bench-raw")
    raw.send(topic, key=b"k", value=payload).get(30)
    started = time.perf_counter()
    futures = [raw.send(topic, key=str(n % 10).encode(), value=payload) for n in range(envelopes)]
    raw.flush(60)
    for f in futures:
        f.get(30)
    raw_rate = envelopes / (time.perf_counter() - started)
    raw.close()
    delete_kafka_topic(broker.admin, topic)

    print(f"\nKafka sharing ({envelopes} envelopes of {len(payload)} bytes, acks=all, idempotent)")
    print(f"  raw producer  {raw_rate:>9,.0f} msg/s")
    print(
        f"  relay         {relay_rate:>9,.0f} msg/s  ({relay_rate / raw_rate:.2f}x, goal >= 0.5x)"
    )

    as_recipient = broker.admin.as_user(credential.username, credential.password)
    latency(clinic, relay, organisation, pairs, tmp, as_recipient)


if __name__ == "__main__":
    main()
