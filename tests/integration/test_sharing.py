"""Sharing with outside providers through a real Kafka broker: consented events flow,
revocation stops them, and neither a broker outage nor a killed relay loses or duplicates
anything in the receiver's view."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.receiver import Receiver, ReceiverStore
from adapters.relay import Checkpoint, Relay, topic_for
from application.clinic import Clinic
from bootstrap import bootstrap
from bootstrap.settings import Settings
from domain.consent import REDISCLOSURE_NOTICE, Purpose, consents_id_for
from domain.events import now
from domain.vocabulary import DataClass, Role
from tests.builders import (
    PRESCRIBER,
    SYSTEM,
    THERAPIST,
    act,
    ago,
    commit,
    demo_services,
    register_recipient,
    register_with_team,
)
from tests.conftest import SecuredBroker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    app = bootstrap(Settings(data_dir=tmp_path / "data"))
    yield app
    app.close()


def shared_patient(clinic: Clinic, organisation: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A patient whose primary-care practice is given the medication list."""
    patient = register_with_team(clinic).aggregate_id
    act(
        clinic,
        patient,
        lambda r: r.add_team_member(
            SYSTEM,
            ago(days=20),
            user_id=f"gp@{uuid.uuid4().hex[:6]}.test",
            role=Role.PRIMARY_CARE,
            organisation=organisation,
        ),
    )
    # The practice is in the directory of recipients; the consent names its entry.
    known = clinic.directory().match("organisation", organisation)
    entry_id = (
        known.entry_id
        if known is not None
        else register_recipient(
            clinic, SYSTEM, kind="organisation", name=organisation, role=Role.PRIMARY_CARE
        )
    )
    consent_id = uuid.uuid4()
    from domain.consent import PatientConsents

    consents = PatientConsents.open(THERAPIST, ago(days=19), patient)
    consents.grant(
        THERAPIST,
        ago(days=19),
        consent_id=consent_id,
        recipient_kind="organisation",
        recipient=organisation,
        recipient_id=entry_id,
        data_classes=[DataClass.MEDICATION],
        purpose=Purpose.TREATMENT,
        valid_from=ago(days=19),
        valid_until=None,
        part2=False,
    )
    commit(clinic, consents)
    return patient, consent_id


def start_med(clinic: Clinic, patient: uuid.UUID) -> uuid.UUID:
    med = uuid.uuid4()
    act(
        clinic,
        patient,
        lambda r: r.start_medication(
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
    return med


def receiver_of(
    kafka: SecuredBroker, clinic: Clinic, organisation: str, store: ReceiverStore
) -> Receiver:
    """The organisation's receiver, with the broker credential its directory entry is
    issued (as `tandem directory credential` issues it)."""
    entry = clinic.directory().match("organisation", organisation)
    assert entry is not None
    credential = kafka.access().issue(entry)
    return Receiver(
        kafka.admin.as_user(credential.username, credential.password), organisation, store
    )


def drain(receiver: Receiver, seconds: float = 15.0) -> None:
    """Poll until nothing new has arrived for a couple of seconds."""
    deadline = time.monotonic() + seconds
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        got = receiver.poll_once(timeout_ms=1000)
        quiet = quiet + 1 if not (got.new or got.duplicates or got.refused) else 0


def test_consented_events_flow_and_revocation_stops_them(
    clinic: Clinic, tmp_path: Path, kafka: SecuredBroker
) -> None:
    organisation = f"Practice {uuid.uuid4().hex[:8]}"
    patient, consent_id = shared_patient(clinic, organisation)
    med = start_med(clinic, patient)
    act(clinic, patient, lambda r: r.write_progress_note(THERAPIST, ago(days=9), text="not shared"))
    relay = Relay(clinic, kafka.relay, Checkpoint(tmp_path / "relay.sqlite"))
    receiver = receiver_of(kafka, clinic, organisation, ReceiverStore(tmp_path / "rx.sqlite"))
    try:
        assert relay.run_once() == 1
        drain(receiver)
        events = receiver.store.events()
        assert [e["kind"] for e in events] == ["MedicationStarted"]
        assert events[0]["resource"]["resourceType"] == "MedicationStatement"
        assert events[0]["consent_ids"] == [str(consent_id)]
        assert "not shared" not in str(events)
        assert receiver.store.medication_list()[str(patient)][0]["status"] == "active"

        consents: Any = clinic.repository.get(consents_id_for(patient))
        consents.revoke(THERAPIST, now(), consent_id=consent_id, reason="withdrawn in writing")
        commit(clinic, consents)
        act(
            clinic,
            patient,
            lambda r: r.change_dose(
                PRESCRIBER,
                now(),
                medication_id=med,
                dose={"amount": "50", "unit": "mg"},
                reason="x",
            ),
        )
        relay.run_once()
        drain(receiver)
        assert [e["kind"] for e in receiver.store.events()] == ["MedicationStarted"]
        assert [r["consent_id"] for r in receiver.store.revocations()] == [str(consent_id)]
    finally:
        relay.close()
        receiver.close()


def broker_script(action: str) -> None:
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "kafka.sh"), action],
        check=True,
        capture_output=True,
        timeout=180,
    )


def test_a_broker_outage_under_load_loses_and_duplicates_nothing(
    clinic: Clinic, tmp_path: Path, kafka: SecuredBroker
) -> None:
    organisation = f"Practice {uuid.uuid4().hex[:8]}"
    patients = [shared_patient(clinic, organisation)[0] for _ in range(3)]
    meds = {p: start_med(clinic, p) for p in patients}
    receiver = receiver_of(kafka, clinic, organisation, ReceiverStore(tmp_path / "rx.sqlite"))
    relay = Relay(clinic, kafka.relay, Checkpoint(tmp_path / "relay.sqlite"))
    stop = threading.Event()
    relaying = threading.Thread(target=relay.run_forever, kwargs={"idle": 0.2, "stop": stop})
    relaying.start()

    def write(n: int) -> None:
        p = patients[n % 3]
        act(
            clinic,
            p,
            lambda r: r.record_adherence(
                PRESCRIBER,
                now(),
                medication_id=meds[p],
                period_days=1,
                doses_prescribed=1,
                doses_taken=n % 2,
            ),
        )

    try:
        for n in range(30):
            write(n)
        broker_script("stop")
        for n in range(30, 90):  # the API keeps accepting and storing while the broker is down
            write(n)
        time.sleep(2)
        broker_script("start")
        for n in range(90, 120):
            write(n)
        # Delivered means the checkpoint at the head and nothing held behind it: a broker
        # just restarted may refuse the topic to the relay until its ACLs are loaded, and
        # then the topic is held and retried (adapters.relay), not dropped.
        deadline = time.monotonic() + 90
        while (
            relay.checkpoint.get() < clinic.position() or relay.held()
        ) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert relay.checkpoint.get() == clinic.position()
        assert relay.held() == {}
    finally:
        stop.set()
        relaying.join(30)
        relay.close()

    try:
        # The receiver's consumer rejoins its group after the restart in its own time:
        # poll until everything is in (or a minute has passed), then a while longer, for
        # anything sent twice.
        deadline = time.monotonic() + 60
        while len(receiver.store.events()) < 3 + 120 and time.monotonic() < deadline:
            receiver.poll_once(timeout_ms=1000)
        drain(receiver, 10)
        events = receiver.store.events()
    finally:
        receiver.close()
    assert len(events) == 3 + 120  # three starts, 120 adherence entries: each exactly once
    for p in patients:
        positions = [e["position"] for e in events if e["patient_id"] == str(p)]
        assert positions == sorted(positions) and len(positions) == len(set(positions)) == 41


def test_a_killed_relay_restarts_without_loss_or_duplicates_in_the_view(
    clinic: Clinic, tmp_path: Path, kafka: SecuredBroker
) -> None:
    organisation = f"Practice {uuid.uuid4().hex[:8]}"
    patient = shared_patient(clinic, organisation)[0]
    med = start_med(clinic, patient)
    records = clinic.patient(patient)
    for n in range(2000):
        records.record_adherence(
            PRESCRIBER,
            now(),
            medication_id=med,
            period_days=1,
            doses_prescribed=1,
            doses_taken=n % 2,
        )
    clinic.save(records)
    receiver = receiver_of(kafka, clinic, organisation, ReceiverStore(tmp_path / "rx.sqlite"))
    env = {**os.environ, "TANDEM_DATA_DIR": str(tmp_path / "data"), **kafka.env()}
    relay_cmd = [sys.executable, "-c", "from api.cli import main; main()", "relay"]
    first = subprocess.Popen(
        relay_cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    checkpoint = Checkpoint(tmp_path / "data" / "relay.sqlite")
    deadline = time.monotonic() + 60
    while checkpoint.get() == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)  # mid-stream: some batches acknowledged, most not
    first.wait(10)
    killed_at = checkpoint.get()
    assert 0 < killed_at < clinic.position(), "the relay was not killed mid-stream"
    subprocess.run(
        [*relay_cmd, "--once"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120
    )

    try:
        drain(receiver, 30)
        events = receiver.store.events()
    finally:
        receiver.close()
    assert len(events) == 2001
    assert [e["position"] for e in events] == sorted({e["position"] for e in events})


def test_demo_primary_care_receives_medication_lists_and_whom_they_are_about(
    tmp_path: Path, kafka: SecuredBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from demo import load_demo
    from demo.common import MAPLE, patient_actor
    from demo.consents import consent_id
    from domain.registration import patient_id_for

    settings = Settings(data_dir=tmp_path / "data")
    clinic = bootstrap(settings)
    load_demo(demo_services(clinic), "demo-password-1")
    # The demo's recipient names the topic and the receiver's consumer group, the same for
    # every run on this broker: a topic prefix of this run's own keeps earlier runs' envelopes
    # (and another run's at the same time, its revocation among them) out of this one.
    prefix = f"tandem-test-{uuid.uuid4().hex[:12]}.share."
    monkeypatch.setattr(f"{Relay.__module__}.TOPIC_PREFIX", prefix)
    # The demo was loaded with no broker configured: the clinic issues each entry's
    # credential now (`tandem directory credential`), which gives the relay its topic.
    access = kafka.access()
    others = [e for e in clinic.directory().entries.values() if e.name != MAPLE]
    for entry in others:
        access.issue(entry)
    relay = Relay(clinic, kafka.relay, Checkpoint(tmp_path / "relay.sqlite"))
    receiver = receiver_of(kafka, clinic, MAPLE, ReceiverStore(tmp_path / "maple.sqlite"))
    ava, cara = patient_id_for("DEMO-1001"), patient_id_for("DEMO-1003")
    try:
        relay.run_once()
        drain(receiver)
        mine = receiver.store.events()
        assert mine, "nothing was shared"
        assert {e["patient_id"] for e in mine} == {str(ava), str(cara)}
        # Ava's consent names her demographics too (whom the list is about); Cara's does not.
        assert {e["data_class"] for e in mine if e["patient_id"] == str(ava)} == {
            "demographics",
            "medication",
        }
        assert {e["data_class"] for e in mine if e["patient_id"] == str(cara)} == {"medication"}
        assert "PatientRegistered" in {e["kind"] for e in mine if e["data_class"] == "demographics"}
        mine = [e for e in mine if e["data_class"] == "medication"]
        assert [m["drug"] for m in receiver.store.medication_list()[str(ava)]] == ["sertraline"]
        # Cara's Part 2 consent names her medications: those alone, each labelled Part 2
        # and carrying the 42 CFR 2.32 notice; none of Ava's is.
        assert [m["drug"] for m in receiver.store.medication_list()[str(cara)]] == ["buprenorphine"]
        for e in mine:
            part2 = e["patient_id"] == str(cara)
            assert e["part2"] is part2
            assert ("42CFRPart2" in e["security_labels"]) is part2
            assert (e["notice"] == REDISCLOSURE_NOTICE) is part2
        assert {e["kind"] for e in mine} <= {
            "MedicationStarted",
            "TitrationPlanned",
            "DoseChanged",
            "DoseTimingChanged",
            "SideEffectReported",
            "AdherenceRecorded",
            "MedicationReassessed",
            "MedicationSwitched",
            "MedicationStopped",
            "TaperStarted",
        }
        ava_meds = [e for e in mine if e["patient_id"] == str(ava)]

        consents: Any = clinic.repository.get(consents_id_for(ava))
        consents.revoke(
            patient_actor("ava@demo"),
            now(),
            consent_id=consent_id("ava-maple"),
            reason="I no longer want my GP to receive updates",
        )
        commit(clinic, consents)
        record = clinic.patient(ava)
        medication = next(m for m, s in record.state.medications.items() if s.status != "stopped")
        act(
            clinic,
            ava,
            lambda r: r.record_adherence(
                PRESCRIBER.model_copy(
                    update={
                        "user_id": "prescriber@demo",
                        "organisation": "Riverside Behavioral Health",
                    }
                ),
                now(),
                medication_id=medication,
                period_days=7,
                doses_prescribed=7,
                doses_taken=7,
            ),
        )
        relay.run_once()
        drain(receiver)
        after = [e for e in receiver.store.events() if e["patient_id"] == str(ava)]
        after = [e for e in after if e["data_class"] == "medication"]
        assert len(after) == len(ava_meds)  # it stopped growing
        assert str(consent_id("ava-maple")) in {
            r["consent_id"] for r in receiver.store.revocations()
        }
    finally:
        relay.close()
        receiver.close()
        for entry in clinic.directory().entries.values():
            access.revoke(entry)


def receive(receiver: Receiver, wanted: int, seconds: float = 30.0) -> list[dict[str, Any]]:
    """The receiver's view once it holds `wanted` events (or the time is up), and after a
    further quiet second (so that one too many would show)."""
    deadline = time.monotonic() + seconds
    while len(receiver.store.events()) < wanted and time.monotonic() < deadline:
        receiver.poll_once(timeout_ms=500)
    receiver.poll_once(timeout_ms=1000)
    return receiver.store.events()


def test_a_recipient_without_broker_access_holds_up_no_one_else(
    clinic: Clinic, tmp_path: Path, kafka: SecuredBroker
) -> None:
    """One entry has no topic or credential yet (registered while no broker admin was
    configured): the relay delivers to the other, holds that one's envelopes from their
    first position, and delivers them all, once, when its access is issued, even through a
    relay restarted in between."""
    ready, waiting = f"Practice {uuid.uuid4().hex[:8]}", f"Practice {uuid.uuid4().hex[:8]}"
    first = shared_patient(clinic, ready)[0]
    second = shared_patient(clinic, waiting)[0]
    waiting_from = clinic.position() + 1
    meds = {first: start_med(clinic, first), second: start_med(clinic, second)}
    access = kafka.access()
    entries = [clinic.directory().match("organisation", name) for name in (ready, waiting)]
    checkpoint = tmp_path / "relay.sqlite"
    relay = Relay(clinic, kafka.relay, Checkpoint(checkpoint), hold_retry=0)
    receiver = receiver_of(kafka, clinic, ready, ReceiverStore(tmp_path / "ready.sqlite"))
    late: Receiver | None = None

    def adherence(patient: uuid.UUID) -> None:
        act(
            clinic,
            patient,
            lambda r: r.record_adherence(
                PRESCRIBER,
                now(),
                medication_id=meds[patient],
                period_days=1,
                doses_prescribed=1,
                doses_taken=1,
            ),
        )

    try:
        assert relay.run_once() == 1  # the ready practice's medication; the other's is held
        assert relay.checkpoint.get() == clinic.position()
        held = relay.held()
        assert list(held) == [topic_for(waiting)]
        assert held[topic_for(waiting)].since == waiting_from + 1  # its MedicationStarted
        for _ in range(3):
            adherence(first)
            adherence(second)
        assert relay.run_once() == 3  # retried and still refused: the others still flow
        assert relay.checkpoint.get() == clinic.position()
        assert held == relay.held()
        assert len(receive(receiver, 4)) == 4
        relay.close()

        # The clinic issues the waiting entry's access (`tandem directory credential`); a
        # relay started again from the same checkpoint file delivers what was held.
        credential = access.issue(entries[1])  # type: ignore[arg-type]
        relay = Relay(clinic, kafka.relay, Checkpoint(checkpoint), hold_retry=0)
        adherence(first)
        adherence(second)
        assert relay.run_once() == 4 + 2  # the held four, then the two new envelopes
        assert relay.held() == {}
        late = Receiver(
            kafka.admin.as_user(credential.username, credential.password),
            waiting,
            ReceiverStore(tmp_path / "waiting.sqlite"),
        )
        for rx, patient in ((late, second), (receiver, first)):
            events = receive(rx, 5)
            assert [e["kind"] for e in events] == ["MedicationStarted"] + ["AdherenceRecorded"] * 4
            assert {e["patient_id"] for e in events} == {str(patient)}
            positions = [e["position"] for e in events]
            assert positions == sorted(set(positions))
    finally:
        relay.close()
        receiver.close()
        if late is not None:
            late.close()
        for entry in entries:
            access.revoke(entry)  # type: ignore[arg-type]
