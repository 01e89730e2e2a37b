"""A real round trip through the local Kafka broker (scripts/kafka.sh; `make test` starts it).

Proves what the relay relies on: an idempotent producer (acks=all) is acknowledged, one
patient's key lands on one partition in order, and a fresh consumer group reads the events
back in that order and commits its position.
"""

from __future__ import annotations

import json
import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from tests.conftest import SecuredBroker


def test_cluster_is_one_unfenced_broker(kafka: SecuredBroker) -> None:
    admin = KafkaAdminClient(**kafka.admin.configs(), request_timeout_ms=10_000)
    try:
        cluster = admin.describe_cluster()
    finally:
        admin.close()
    assert [b["is_fenced"] for b in cluster["brokers"]] == [False]
    assert cluster["controller_id"] == cluster["brokers"][0]["broker_id"]


def test_keyed_messages_come_back_in_order(kafka: SecuredBroker, kafka_topic: str) -> None:
    patient = f"patient-{uuid.uuid4()}"
    events = [{"event_id": str(uuid.uuid4()), "version": v} for v in (1, 2, 3)]

    producer = KafkaProducer(
        **kafka.admin.configs(),
        enable_idempotence=True,
        acks="all",
    )
    try:
        acked = [
            producer.send(kafka_topic, key=patient.encode(), value=json.dumps(e).encode()).get(
                timeout=30
            )
            for e in events
        ]
    finally:
        producer.close(timeout=10)
    assert len({m.partition for m in acked}) == 1, "one key, one partition"
    partition = acked[0].partition
    assert [m.offset for m in acked] == [0, 1, 2]

    consumer = KafkaConsumer(
        kafka_topic,
        **kafka.admin.configs(),
        group_id=f"tandem-test-{uuid.uuid4().hex[:12]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        assert consumer.partitions_for_topic(kafka_topic) == set(range(6))
        received = []
        deadline = time.monotonic() + 60
        while len(received) < len(events) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                received.extend(records)
        consumer.commit()
        committed = consumer.committed(TopicPartition(kafka_topic, partition))
    finally:
        consumer.close()

    assert [(r.partition, r.offset) for r in received] == [(partition, o) for o in (0, 1, 2)]
    assert [r.key for r in received] == [patient.encode()] * 3
    assert [json.loads(r.value) for r in received] == events
    assert committed == 3
