"""Every way a person gets patient data leaves an access record (issue 10, item 2).

A fresh store is seeded with one unique marker string per data class (a patient whose name
carries the demographics marker, a progress note carrying the progress-note marker, and so
on; the SUD marker in a 42 CFR Part 2 program patient's record), users of every role, and
consents that let outside readers see some classes. Then every route of the OpenAPI
document (every method), every page route and every CLI command that prints patient data is
called as every role and without credentials. In every answer (body and headers; a PDF's
compressed streams too), each marker found must be backed by an access record left by that
same call, naming the marker's data class, whose recorded answer (rebuilt by replay, its
hash checked) contains the marker. A route, page or command missing from the tables below
fails the test, so a new one cannot slip past; so does a seeded class that no answer ever
showed, so the sweep cannot pass by seeing nothing.

Access records are counted straight from the store's notification log, not through the
API's compliance routes. The whole sweep runs once per module, reads before writes, in a
fixed order; each case is then its own test, so a hole names its route and role.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import typer
from fastapi.testclient import TestClient
from httpx import Response
from pwdlib.hashers.argon2 import Argon2Hasher
from starlette.routing import Mount
from typer.testing import CliRunner

# --- the project: every import of it, and every internal this test calls ---------------
# (Kept in this one block so that a move of modules changes only these lines.)
from api.app import create_app
from api.cli import app as cli_app
from application.services import Services
from bootstrap import Settings, bootstrap_services
from domain.audit import AccessRecorded
from domain.events import Actor
from domain.vocabulary import DataClass, Role
from tests.builders import act, post_login
from tests.builders import create_user as store_user


def start_services(data_dir: Path) -> Services:
    return bootstrap_services(Settings(data_dir=data_dir))


def make_app(services: Services) -> Any:
    return create_app(services=services)


def create_user(
    services: Services, email: str, role: Role, organisation: str, password_hash: str, patient: str
) -> None:
    store_user(
        services.clinic,
        Actor.system("tests"),
        email=email,
        display_name=email.split("@", maxsplit=1)[0],
        role=role,
        organisation=organisation,
        password_hash=password_hash,
        patient_id=UUID(patient) if patient else None,
    )


def record_supporter_observation(services: Services, patient: str, email: str, text: str) -> None:
    """No route records a supporter's observation yet: the one seed written to the record
    directly (the only measure-class entry with free text)."""
    supporter = Actor(user_id=email, role=Role.SUPPORTER, organisation="family")
    act(
        services.clinic,
        UUID(patient),
        lambda r: r.record_supporter_observation(
            supporter, datetime.now(UTC), cue="sleep", change="less-than-usual", observation=text
        ),
    )


def log_head(services: Services) -> int:
    return int(services.clinic.position())


def access_records_after(services: Services, position: int) -> list[AccessRecorded]:
    """The access records stored after `position`, read from the notification log itself."""
    clinic = services.clinic
    stored = clinic.recorder.select_notifications(start=position + 1, limit=100_000)
    events = [clinic.mapper.to_domain_event(n) for n in stored]
    return [e for e in events if isinstance(e, AccessRecorded)]


def recorded_answer(services: Services, access_id: UUID) -> tuple[bytes, bool]:
    """The answer an access record describes, rebuilt from the log, and whether its hash
    is the one recorded."""
    replay = services.reader.replay(access_id)
    return bytes(replay.body), bool(replay.matches)


def index_reaches_head(services: Services) -> bool:
    return bool(services.reader.index.wait_for(log_head(services)))


# --- who and what ------------------------------------------------------------------------

# Not part of a patient's record, so not seeded: accounts and the access records themselves.
NOT_RECORD_CLASSES = {DataClass.ACCOUNT, DataClass.AUDIT}
RECORD_CLASSES = [c.value for c in DataClass if c not in NOT_RECORD_CLASSES]
# One marker per class; where it is seeded is in `seed_*` below.
MARKERS = {cls: f"MK{uuid4().hex[:10]}" for cls in RECORD_CLASSES}

CLINIC = "Enum Clinic"
PROGRAM = "Enum Recovery Program"  # a 42 CFR Part 2 program
USERS: dict[Role, tuple[str, str]] = {
    Role.THERAPIST: ("therapist@enum.test", CLINIC),
    Role.PRESCRIBER: ("prescriber@enum.test", CLINIC),
    Role.PATIENT: ("patient@enum.test", "self"),
    Role.SUPPORTER: ("supporter@enum.test", "family"),
    Role.PRIMARY_CARE: ("pcp@enum.test", "Enum Family Practice"),
    Role.SCHOOL_COUNSELOR: ("counselor@enum.test", "Enum College Counseling"),
    Role.EMPLOYER: ("employer@enum.test", "Enum Occupational Health"),
    Role.COMPLIANCE: ("compliance@enum.test", CLINIC),
}
ANONYMOUS = "anonymous"
CALLERS = [role.value for role in USERS] + [ANONYMOUS]
PASSWORD = "synthetic-password-enum"
# Outside readers read for the purpose their consent names; everyone else also tries one
# that no consent here names (a refusal for consent readers, ignored by the treating team).
ROLE_PURPOSE = {
    Role.SCHOOL_COUNSELOR.value: "education-support",
    Role.EMPLOYER.value: "return-to-work",
    Role.SUPPORTER.value: "family-support",
}


def email_of(caller: str) -> str:
    return USERS[Role(caller)][0] if caller != ANONYMOUS else "nobody@enum.test"


def other_purpose(_: World, caller: str) -> dict[str, str]:
    return {"purpose": ROLE_PURPOSE.get(caller, "care-coordination")}


def moment(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def day(days: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


# --- the world: a store with one marker per class ------------------------------------------


@dataclass
class World:
    services: Services
    app: Any
    client: TestClient  # holds the app's lifespan; the API is called through it
    data_dir: Path
    ids: dict[str, str] = field(default_factory=dict)
    markers: dict[str, str] = field(default_factory=dict)  # marker -> its data class
    tokens: dict[str, str] = field(default_factory=dict)
    browsers: dict[str, Browser] = field(default_factory=dict)

    def ref(self, name: str) -> str:
        """A seeded id by name, or a literal written `=value`."""
        return name[1:] if name.startswith("=") else self.ids[name]

    def bearer(self, caller: str) -> dict[str, str]:
        token = self.tokens.get(caller)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def fresh_bearer(self, caller: str) -> dict[str, str]:
        """A token of the caller's own, not the one the sweep's other cases use."""
        if caller not in self.tokens:
            return {}
        form = {"username": email_of(caller), "password": PASSWORD}
        token = self.client.post("/auth/token", data=form).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def write(self, caller: str, path: str, body: Any, method: str = "POST") -> Any:
        answer = self.client.request(method, path, json=body, headers=self.bearer(caller))
        assert answer.status_code in (200, 201), (path, answer.status_code, answer.text)
        return answer.json()

    def created(self, caller: str, path: str, body: Any) -> str:
        return str(self.write(caller, path, body)["created_id"])

    def browser(self, caller: str) -> Browser:
        """A browser of its own (own cookie jar), signed in as `caller` unless anonymous,
        with the CSRF token its forms carry."""
        client = TestClient(self.app, raise_server_exceptions=False, follow_redirects=False)
        if caller != ANONYMOUS:
            answer = post_login(client, email_of(caller), PASSWORD)
            assert answer.status_code == 303, answer.text
        home = client.get("/", follow_redirects=True)
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', home.text)
        return Browser(client, found.group(1) if found else "")


@dataclass
class Browser:
    client: TestClient
    csrf: str


T, RX, PT = Role.THERAPIST.value, Role.PRESCRIBER.value, Role.PATIENT.value
DOSE = {"amount": "50", "unit": "mg"}
DAILY = {"frequency": "once-daily", "times": ["08:00:00"]}


def medication(drug: str, rxnorm: str, indication: str) -> dict[str, Any]:
    return {
        "drug": drug,
        "rxnorm": rxnorm,
        "dose": DOSE,
        "schedule": DAILY,
        "indication": indication,
    }


def session(starts_at: str) -> dict[str, Any]:
    return {"starts_at": starts_at, "duration_minutes": 50, "mode": "in-person", "modality": "cbt"}


def register(w: World, caller: str, label: str, given_name: str) -> str:
    mrn = f"ENUM-{uuid4().hex[:10]}"
    w.ids[f"MRN of {label}"] = mrn
    body = {
        "mrn": mrn,
        "given_name": given_name,
        "family_name": "Synthetic",
        "birth_date": "1990-04-02",
        "sex_at_birth": "female",
    }
    return w.created(caller, "/patients", body)


def add_member(w: World, by: str, patient: str, user: str, role: str, org: str) -> None:
    body = {"user_id": user, "role": role, "organisation": org, "part2_program": org == PROGRAM}
    w.write(by, f"/patients/{patient}/team-members", body)


def seed_patients(w: World) -> None:
    """P carries every marker but SUD; Q is treated in a Part 2 program (SUD marker); R is
    a scratch patient for writes that would change what P shows (demographics)."""
    m = MARKERS
    w.ids["P"] = p = register(w, T, "P", m["demographics"])
    w.ids["Q"] = q = register(w, RX, "Q", "Quinn")
    w.ids["R"] = register(w, T, "R", "Rory")
    add_member(w, T, p, USERS[Role.PRESCRIBER][0], RX, CLINIC)
    add_member(w, T, p, USERS[Role.SUPPORTER][0], Role.SUPPORTER.value, "family")
    add_member(w, T, p, USERS[Role.PATIENT][0], PT, "self")
    add_member(w, T, p, "colleague@nowhere.test", RX, f"{m['care-team']} Practice")
    add_member(w, T, p, "leaving@nowhere.test", T, CLINIC)
    add_member(w, RX, q, USERS[Role.THERAPIST][0], T, PROGRAM)


def seed_care(w: World) -> None:
    """P's therapy side: plan, functional, appointment, notes, safety, messages."""
    m, p = MARKERS, f"/patients/{w.ids['P']}"
    w.write(T, f"{p}/goals", {"description": f"{m['care-plan']} back to full shifts"})
    body = {"setting": "work", "recommendation": f"{m['functional']} four-hour shifts"}
    w.write(T, f"{p}/functional-recommendations", body)
    missed = w.created(T, f"{p}/sessions", session(moment(hours=-3)))
    w.write(T, f"{p}/sessions/{missed}/missed", {"reason": f"{m['appointment']} bus strike"})
    for name, starts in (
        ("session to attend", moment(hours=-1)),
        ("session to miss", moment(hours=-2)),
        ("session to cancel", moment(days=2)),
        ("session for the page", moment(hours=-4)),  # none overlaps another
    ):
        w.ids[name] = w.created(T, f"{p}/sessions", session(starts))
    w.write(T, f"{p}/progress-notes", {"text": f"{m['progress-note']} mood brighter"})
    w.write(T, f"{p}/psychotherapy-notes", {"text": f"{m['psychotherapy-note']} a dream"})
    risk = {"level": "low", "method": "clinical-interview", "plan": f"{m['safety']} call sister"}
    w.write(T, f"{p}/risk-assessments", risk)
    message = {
        "to": [USERS[Role.PRESCRIBER][0]],
        "subject": f"{m['message']} dose question",
        "body": f"{m['message']} she asks about mornings",
    }
    w.ids["message to prescriber"] = w.created(T, f"{p}/messages", message)
    back = {"to": [USERS[Role.THERAPIST][0]], "subject": "Seen", "body": "Will do."}
    w.ids["message to therapist"] = w.created(RX, f"{p}/messages", back)
    w.ids["homework"] = w.created(T, f"{p}/homework", {"description": "Activity diary"})
    w.write(T, f"{p}/questionnaires", {"instrument": "phq-9", "answers": PHQ9})


PHQ9 = {str(item): 1 for item in range(1, 10)}


def seed_medication(w: World) -> None:
    """P's prescribing side: a medication with its reasons, labs; scratch medications and
    orders for the writes of the sweep."""
    m, p = MARKERS, f"/patients/{w.ids['P']}"
    med = w.created(RX, f"{p}/medications", medication("sertraline", "36437", m["medication"]))
    change = {"dose": {"amount": "100", "unit": "mg"}, "reason": f"{m['medication']} partial"}
    w.write(RX, f"{p}/medications/{med}/dose", change)
    for name in ("medication to change", "medication to switch", "medication to taper"):
        w.ids[name] = w.created(RX, f"{p}/medications", medication("bupropion", "42347", "mood"))
    w.ids["medication to stop"] = w.created(
        RX,
        f"{p}/medications",
        {**medication("mirtazapine", "15996", "sleep"), "dose": {"amount": "15", "unit": "mg"}},
    )
    order = {"loinc": "2823-3", "test_name": "Potassium", "reason": f"{m['lab']} baseline"}
    lab = w.created(RX, f"{p}/lab-orders", order)
    result = {
        "loinc": "2823-3",
        "test_name": "Potassium",
        "value": "4.1",
        "unit": "mmol/L",
        "comment": f"{m['lab']} within range",
    }
    w.write(RX, f"{p}/lab-orders/{lab}/results", result)
    for name in ("order for the API", "order for the page"):
        order = {"loinc": "2823-3", "test_name": "Potassium", "reason": "Follow-up"}
        w.ids[name] = w.created(RX, f"{p}/lab-orders", order)
    record_supporter_observation(
        w.services, w.ids["P"], USERS[Role.SUPPORTER][0], f"{m['measure']} sleeping four hours"
    )


def entry(w: World, names: str, kind: str = "user") -> str:
    """The directory entry a consent names `names` by (an email or an organisation's name),
    registered by the therapist the first time, in the role USERS gives it."""
    key = f"entry {kind} {names}"
    if key not in w.ids:
        role = next(
            (r.value for r, (email, org) in USERS.items() if names in (email, org)),
            Role.PRIMARY_CARE.value,
        )
        registration = {
            "kind": kind,
            "name": names if kind == "organisation" else names.split("@", maxsplit=1)[0],
            "role": role,
            "email": names if kind == "user" else None,
        }
        w.ids[key] = str(w.write(T, "/directory", registration)["entry_id"])
    return w.ids[key]


def grant(
    w: World, caller: str, patient: str, recipient: str, classes: list[str], **extra: Any
) -> str:
    body = {
        "recipient": entry(w, recipient, extra.pop("kind", "user")),
        "data_classes": classes,
        "purpose": extra.pop("purpose", "treatment"),
        **extra,
    }
    return w.created(caller, f"/patients/{patient}/consents", body)


def seed_consents(w: World) -> None:
    """Outside readers see some classes of P; the consent marker is a revocation's reason,
    and the id of a consent to a recipient that is no user (so no read relies on it):
    nothing but the consent itself holds it. (Not a recipient's name: the directory of
    recipients, which is no patient's data, lists every name.)"""
    m, p = MARKERS, w.ids["P"]
    outside = [c for c in RECORD_CLASSES if c not in ("psychotherapy-note", "sud")]
    grant(w, PT, p, USERS[Role.PRIMARY_CARE][0], outside)
    counselor_org = USERS[Role.SCHOOL_COUNSELOR][1]
    purpose = "education-support"
    grant(w, PT, p, counselor_org, ["functional", "measure"], kind="organisation", purpose=purpose)
    employer_org = USERS[Role.EMPLOYER][1]
    grant(w, PT, p, employer_org, ["functional"], kind="organisation", purpose="return-to-work")
    classes = ["medication", "appointment", "measure"]
    grant(w, PT, p, USERS[Role.SUPPORTER][0], classes, purpose="family-support")
    marked = str(uuid4())
    grant(w, PT, p, "marked@nowhere.test", ["medication"], consent_id=marked)
    w.markers[marked] = "consent"
    gone = grant(w, PT, p, "gone@nowhere.test", ["lab"])
    w.write(PT, f"/patients/{p}/consents/{gone}/revocation", {"reason": f"{m['consent']} moved"})
    w.ids["revoked consent"] = gone
    w.ids["consent to change"] = grant(w, PT, p, "spare@nowhere.test", ["lab"])
    w.ids["consent to revoke"] = grant(w, PT, p, "spare.two@nowhere.test", ["lab"])
    for caller in CALLERS:  # the recipients the consent routes and pages are called with
        entry(w, f"enum.{caller}@nowhere.test")
        entry(w, f"page.{caller}@nowhere.test")


def seed_part2(w: World) -> None:
    """Q, in a Part 2 program: what its program therapist records is SUD; primary care
    holds a Part 2 consent."""
    m, q = MARKERS, w.ids["Q"]
    w.write(T, f"/patients/{q}/progress-notes", {"text": f"{m['sud']} cravings lower"})
    lapse = {"substance": "fentanyl", "occurred_on": day(-1), "circumstances": f"{m['sud']} party"}
    w.write(T, f"/patients/{q}/lapses", lapse)
    grant(w, RX, q, USERS[Role.PRIMARY_CARE][0], ["sud", "demographics"], part2=True)


def seed_break_glass(w: World) -> None:
    """Two unreviewed break-the-glass reads (on the scratch patient), for the review routes."""
    for name in ("break-glass for the API", "break-glass for the page"):
        answer = w.client.post(
            f"/patients/{w.ids['R']}/break-glass",
            json={"reason": "Unconscious in the waiting room"},
            headers=w.bearer(Role.PRIMARY_CARE.value),
        )
        assert answer.status_code == 200, answer.text
        w.ids[name] = answer.headers["X-Access-Id"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("every-read") / "data"
    services = start_services(data_dir)
    # A real Argon2id hash at the lowest cost: the sweep signs in some forty times.
    password_hash = Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    for role, (email, org) in USERS.items():
        if role not in (Role.PATIENT, Role.SUPPORTER):
            create_user(services, email, role, org, password_hash, "")
    app = make_app(services)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        w = World(services, app, client, data_dir, markers={v: k for k, v in MARKERS.items()})

        def sign_in(caller: str) -> None:
            form = {"username": email_of(caller), "password": PASSWORD}
            w.tokens[caller] = client.post("/auth/token", data=form).json()["access_token"]

        sign_in(T)
        sign_in(RX)
        seed_patients(w)
        for role in (Role.PATIENT, Role.SUPPORTER):
            email, org = USERS[role]
            create_user(services, email, role, org, password_hash, w.ids["P"])
        for caller in CALLERS:
            if caller != ANONYMOUS:
                sign_in(caller)
        seed_care(w)
        seed_medication(w)
        seed_consents(w)
        seed_part2(w)
        seed_break_glass(w)
        w.browsers = {caller: w.browser(caller) for caller in CALLERS}
        assert index_reaches_head(services)
        yield w


# --- how each route is called --------------------------------------------------------------

Fill = Callable[[World, str], Any]


@dataclass(frozen=True)
class Way:
    """One way of calling a route: path parameters (seeded ids by name), query, JSON or form
    body (each a value or a function of the world and the caller)."""

    name: str
    slots: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] | Fill | None = None
    json: Any = None
    form: dict[str, Any] | Fill | None = None
    path: str | None = None  # instead of the route's own (a mount's file)
    # A browser (a page) or a bearer token (a route) of its own: signing out ends it.
    fresh_session: bool = False


def value(given: Any, w: World, caller: str) -> Any:
    return given(w, caller) if callable(given) else given


P = {"patient_id": "P"}
Q = {"patient_id": "Q"}


def on_p(**slots: str) -> dict[str, str]:
    return {**P, **slots}


def reads() -> list[Way]:
    return [Way("P", P), Way("Q", Q), Way("P, another purpose", P, query=other_purpose)]


def body(name: str, data: Any, **slots: str) -> list[Way]:
    return [Way(name, on_p(**slots), json=data)]


def new_patient(_: World, caller: str) -> dict[str, Any]:
    return {
        "mrn": f"ENUM-N-{uuid4().hex[:8]}",
        "given_name": "Nadia",
        "family_name": "Synthetic",
        "birth_date": "1988-01-01",
        "sex_at_birth": "female",
    }


def consent_body(w: World, caller: str) -> dict[str, Any]:
    return {
        "recipient": w.ids[f"entry user enum.{caller}@nowhere.test"],
        "data_classes": ["lab"],
        "purpose": "treatment",
    }


def step(days: int, amount: str) -> dict[str, Any]:
    return {"on_or_after": day(days), "dose": {"amount": amount, "unit": "mg"}}


SWITCH = {**medication("venlafaxine", "39786", "mood"), "reason": "Not tolerated"}
LAB = {"loinc": "2823-3", "test_name": "Potassium", "value": "4.0", "unit": "mmol/L"}
OUTCOME = {
    "setting": "work",
    "measure": "attendance",
    "period_start": day(-7),
    "period_end": day(-1),
    "achieved": 4,
    "expected": 5,
}
P_PATH = "/patients/{patient_id}"

API: dict[tuple[str, str], list[Way]] = {
    # reads
    ("GET", P_PATH): reads(),
    ("GET", f"{P_PATH}/view"): reads(),
    ("GET", f"{P_PATH}/timeline"): reads(),
    ("GET", f"{P_PATH}/events"): reads(),
    ("GET", f"{P_PATH}/consents"): reads(),
    ("GET", f"{P_PATH}/care"): reads(),
    ("GET", f"{P_PATH}/outcomes"): reads(),
    ("GET", f"{P_PATH}/medication-timeline"): reads(),
    ("GET", "/board"): [
        Way("mine"),
        Way("team", query={"scope": "team"}),
        Way("a page of one", query={"limit": 1}),
    ],
    ("GET", "/patients"): [
        Way("P by name", query={"q": f"{MARKERS['demographics']} Synthetic"}),
        Way("P by MRN", query=lambda w, c: {"q": w.ids["MRN of P"]}),
        Way("by birth date", query={"q": "1990-04-02"}),
    ],
    ("GET", "/me"): [Way("who am I")],
    ("GET", "/me/access-log"): [
        Way("newest"),
        Way("a page of one", query={"limit": 1}),
        Way("no log position", query={"before": 0}),
    ],
    ("GET", "/me/record"): [Way("download")],
    ("GET", "/health"): [Way("health")],
    ("GET", "/compliance/access"): [
        Way("all"),
        Way("P", query=lambda w, c: {"patient_id": w.ids["P"]}),
        Way("csv", query={"format": "csv"}),
    ],
    ("GET", "/compliance/disclosures/{patient_id}"): [
        Way("P", P),
        Way("Q", Q),
        Way("P csv", P, query={"format": "csv"}),
    ],
    ("GET", "/compliance/break-glass"): [Way("queue")],
    ("GET", "/compliance/access/{access_id}/replay"): [
        Way("a break-glass read", {"access_id": "break-glass for the page"})
    ],
    ("GET", "/compliance/verify"): [Way("verify")],
    ("GET", "/compliance/refused"): [Way("all"), Way("csv", query={"format": "csv"})],
    ("GET", "/compliance/refused/flagged"): [Way("flagged")],
    ("GET", "/compliance/sign-ins"): [Way("all"), Way("csv", query={"format": "csv"})],
    # reads by POST
    ("POST", f"{P_PATH}/break-glass"): [
        Way("P", P, json={"reason": "Found unresponsive"}),
        Way("Q", Q, json={"reason": "Found unresponsive"}),
    ],
    # sign-in
    ("POST", "/auth/token"): [
        Way("own password", form=lambda w, c: {"username": email_of(c), "password": PASSWORD})
    ],
    ("POST", "/auth/sign-out"): [Way("sign a token out", fresh_session=True)],
    # registration and the team
    ("POST", "/patients"): [Way("a new patient", json=new_patient)],
    ("PUT", f"{P_PATH}/demographics"): [
        Way(
            "R",
            {"patient_id": "R"},
            json={
                "given_name": "Rory",
                "family_name": "Synthetic",
                "birth_date": "1990-04-02",
                "sex_at_birth": "female",
            },
        )
    ],
    ("POST", f"{P_PATH}/team-members"): body(
        "a colleague", {"user_id": "visitor@nowhere.test", "role": T, "organisation": CLINIC}
    ),
    ("POST", f"{P_PATH}/team-members/{{user_id}}/removal"): body(
        "a leaving member", {"reason": "Moved clinic"}, user_id="=leaving@nowhere.test"
    ),
    # consents
    ("POST", f"{P_PATH}/consents"): [Way("P", P, json=consent_body)],
    ("POST", f"{P_PATH}/consents/{{consent_id}}/amendment"): body(
        "a spare consent", {"valid_until": moment(days=30)}, consent_id="consent to change"
    ),
    ("POST", f"{P_PATH}/consents/{{consent_id}}/revocation"): body(
        "a spare consent", {"reason": "No longer needed"}, consent_id="consent to change"
    ),
    ("POST", f"{P_PATH}/consents/{{consent_id}}/recipient"): body(
        "a consent that names its entry",
        lambda w, c: {"recipient": w.ids["entry user spare@nowhere.test"]},
        consent_id="consent to revoke",
    ),
    # the directory of recipients
    ("GET", "/directory"): [Way("all")],
    ("POST", "/directory"): [
        Way(
            "an entry",
            json=lambda w, c: {
                "kind": "organisation",
                "name": f"Enum Registered {c}",
                "role": "primary-care",
            },
        )
    ],
    ("GET", "/directory/unresolved-consents"): [Way("mine")],
    # an entry no one registered (refused on entry_id: the removal itself is tested in
    # tests/integration/test_kafka_security.py), and a credential with no broker configured
    ("POST", "/directory/{entry_id}/removal"): [
        Way(
            "an unknown entry",
            {"entry_id": "=6f1c2b0e-0000-4000-8000-000000000000"},
            json={"reason": "No longer a recipient"},
        )
    ],
    ("POST", "/directory/{entry_id}/credential"): [
        Way("a spare entry", {"entry_id": "entry user spare@nowhere.test"})
    ],
    # compliance
    ("POST", "/compliance/break-glass/{access_id}/review"): [
        Way(
            "a break-glass read",
            {"access_id": "break-glass for the API"},
            json={"outcome": "appropriate", "note": "Emergency confirmed"},
        )
    ],
    # clinical commands
    ("POST", f"{P_PATH}/conditions"): body("P", {"icd10": "F32.1", "description": "Depression"}),
    ("POST", f"{P_PATH}/neutropenia-pathway"): body(
        "P", {"benign_ethnic_neutropenia": False, "basis": "Counts within range"}
    ),
    ("POST", f"{P_PATH}/pregnancy-status"): body("P", {"status": "not pregnant"}),
    ("POST", f"{P_PATH}/level-targets"): [
        Way(
            "P",
            P,
            json=lambda w, _: {
                "medication_id": w.ids["medication to change"],
                "low": "0.6",
                "high": "0.8",
                "reason": "Maintenance",
            },
        )
    ],
    ("POST", f"{P_PATH}/goals"): body("P", {"description": "Walk daily"}),
    ("POST", f"{P_PATH}/phase"): body("P", {"phase": "stabilization", "reason": "Steadier"}),
    ("POST", f"{P_PATH}/functional-recommendations"): body(
        "P", {"setting": "home", "recommendation": "Shared chores"}
    ),
    ("POST", f"{P_PATH}/sessions"): body("P", session(moment(days=3))),
    ("POST", f"{P_PATH}/sessions/{{item_id}}/attendance"): body(
        "P", {}, item_id="session to attend"
    ),
    ("POST", f"{P_PATH}/sessions/{{item_id}}/missed"): body(
        "P", {"reason": "Unwell"}, item_id="session to miss"
    ),
    ("POST", f"{P_PATH}/sessions/{{item_id}}/cancellation"): body(
        "P", {"cancelled_by": "clinician", "reason": "Clinic closed"}, item_id="session to cancel"
    ),
    ("POST", f"{P_PATH}/progress-notes"): body("P", {"text": "Routine review"}),
    ("POST", f"{P_PATH}/psychotherapy-notes"): body("P", {"text": "Process notes"}),
    ("POST", f"{P_PATH}/therapy-targets"): body(
        "P", {"description": "Avoidance", "modality": "cbt"}
    ),
    ("POST", f"{P_PATH}/homework"): body("P", {"description": "Thought record"}),
    ("POST", f"{P_PATH}/homework/{{item_id}}/review"): body(
        "P", {"completion": "done"}, item_id="homework"
    ),
    ("POST", f"{P_PATH}/evaluations"): body("P", {"symptom_history": "Low mood since spring"}),
    ("POST", f"{P_PATH}/medications"): body("P", medication("bupropion", "42347", "mood")),
    ("POST", f"{P_PATH}/medications/{{item_id}}/titration-plan"): body(
        "P", {"steps": [step(7, "150")]}, item_id="medication to change"
    ),
    ("POST", f"{P_PATH}/medications/{{item_id}}/dose"): body(
        "P",
        {"dose": {"amount": "75", "unit": "mg"}, "reason": "Review"},
        item_id="medication to change",
    ),
    ("POST", f"{P_PATH}/medications/{{item_id}}/timing"): body(
        "P",
        {"schedule": {"frequency": "at-bedtime", "times": []}, "reason": "Drowsy"},
        item_id="medication to change",
    ),
    ("POST", f"{P_PATH}/medications/{{item_id}}/switch"): body(
        "P", SWITCH, item_id="medication to switch"
    ),
    ("POST", f"{P_PATH}/medications/{{item_id}}/side-effects"): body(
        "P", {"effect": "nausea", "severity": "mild"}, item_id="medication to change"
    ),
    ("POST", f"{P_PATH}/medications/{{item_id}}/reported-doses"): body(
        "P", {"dose": {"amount": "50", "unit": "mg"}}, item_id="medication to change"
    ),
    ("POST", f"{P_PATH}/medications/{{item_id}}/adherence"): body(
        "P",
        {"period_days": 7, "doses_prescribed": 7, "doses_taken": 6},
        item_id="medication to change",
    ),
    ("POST", f"{P_PATH}/medications/{{item_id}}/reassessment"): body(
        "P", {"assessment": "Helping", "decision": "continue"}, item_id="medication to change"
    ),
    ("POST", f"{P_PATH}/medications/{{item_id}}/taper"): body(
        "P", {"steps": [step(7, "25")], "reason": "Planned end"}, item_id="medication to taper"
    ),
    ("POST", f"{P_PATH}/medications/{{item_id}}/stop"): body(
        "P", {"reason": "Course complete"}, item_id="medication to stop"
    ),
    ("POST", f"{P_PATH}/medication-reconciliations"): body(
        "P",
        {
            "items": [
                {"drug": "cetirizine", "dose": DOSE, "schedule": DAILY, "decision": "confirmed"}
            ]
        },
    ),
    ("POST", f"{P_PATH}/naloxone-discussions"): body("P", {"outcome": "has-naloxone"}),
    ("POST", f"{P_PATH}/prescription-monitoring-checks"): body(
        "P", {"state": "AZ", "findings": "no-concerns"}
    ),
    ("POST", f"{P_PATH}/lab-orders"): body(
        "P", {"loinc": "2823-3", "test_name": "Potassium", "reason": "Monitoring"}
    ),
    ("POST", f"{P_PATH}/lab-orders/{{item_id}}/results"): body(
        "P", LAB, item_id="order for the API"
    ),
    ("POST", f"{P_PATH}/questionnaires"): body("P", {"instrument": "phq-9", "answers": PHQ9}),
    ("POST", f"{P_PATH}/sleep-logs"): body(
        "P", {"night_of": day(-1), "hours_asleep": "7", "quality": 3}
    ),
    ("POST", f"{P_PATH}/vitals"): body("P", {"weight_kg": "70"}),
    ("POST", f"{P_PATH}/functional-outcomes"): body("P", OUTCOME),
    ("POST", f"{P_PATH}/lapses"): body(
        "P", {"substance": "alcohol", "occurred_on": day(-1), "circumstances": "A wedding"}
    ),
    ("POST", f"{P_PATH}/risk-assessments"): body(
        "P", {"level": "low", "method": "c-ssrs", "plan": "Routine follow-up"}
    ),
    ("POST", f"{P_PATH}/messages"): body(
        "P", {"to": [USERS[Role.THERAPIST][0]], "subject": "Hello", "body": "Routine."}
    ),
    ("POST", f"{P_PATH}/messages/{{item_id}}/acknowledgement"): body(
        "P", {}, item_id="message to prescriber"
    ),
    ("POST", f"{P_PATH}/supporter-observations"): body(
        "P", {"cue": "sleep", "change": "usual", "observation": "Slept as usual"}
    ),
    ("POST", f"{P_PATH}/emergency-contact"): body(
        "P", {"name": "Ola Synthetic", "relationship": "sister", "phone": "+1 555 0100"}
    ),
    ("POST", f"{P_PATH}/messages/{{item_id}}/replies"): body(
        "P", {"body": "Noted."}, item_id="message to prescriber"
    ),
    # corrections (version 1, the registration, is no clinical entry: refused on the field)
    ("POST", f"{P_PATH}/entered-in-error"): body("P", {"entry_version": 1, "reason": "Typo"}),
    ("POST", f"{P_PATH}/amendments"): body(
        "P", {"entry_version": 1, "reason": "Typo", "changes": {"text": "Amended"}}
    ),
}


def form_action(name: str, data: dict[str, Any], **ids: str) -> Way:
    """A patient page's form, posted for P; `ids` names the seeded ids its inputs take."""

    def form(w: World, caller: str) -> dict[str, Any]:
        return {**data, **{input_name: w.ids[ref] for input_name, ref in ids.items()}}

    return Way(name, on_p(action_name=f"={name}"), form=form)


def my_form(name: str, data: dict[str, Any], **ids: str) -> Way:
    """One of the patient's own forms on /me (for their own record, P's for the patient)."""

    def form(w: World, caller: str) -> dict[str, Any]:
        return {**data, **{input_name: w.ids[ref] for input_name, ref in ids.items()}}

    return Way(name, {"action_name": f"={name}"}, form=form)


def own_login(_: World, caller: str) -> dict[str, str]:
    return {"email": email_of(caller), "password": PASSWORD}


PAGES: dict[tuple[str, str], list[Way]] = {
    ("GET", "/login"): [Way("the form")],
    ("POST", "/login"): [
        Way("own password", form=own_login, fresh_session=True),  # a new session: new CSRF
        Way("wrong password", form=lambda w, c: {"email": email_of(c), "password": "wrong"}),
    ],
    ("POST", "/logout"): [Way("sign out", form={}, fresh_session=True)],
    ("GET", "/"): [Way("home")],
    ("GET", "/shared"): [Way("shared with me")],
    ("GET", "/patients"): [Way("mine"), Way("a search", query={"q": "synthetic"})],
    ("GET", "/register"): [Way("the form")],
    ("POST", "/register"): [
        Way(
            "a registration",
            form=lambda w, c: {
                "mrn": f"REG-{uuid4().hex[:10]}",
                "given_name": "Reg",
                "family_name": "Synthetic",
                "birth_date": "2000-01-01",
                "sex_at_birth": "unknown",
            },
        ),
        Way("no name", form={"mrn": "REG-X1", "birth_date": "2000-01-01"}),
    ],
    ("GET", "/caseload"): [Way("mine"), Way("team", query={"scope": "team"})],
    ("GET", "/schedule"): [
        Way("this week"),
        Way("a day", query={"day": "2026-03-09", "span": "day"}),
        Way("not a date", query={"day": "someday"}),
    ],
    ("GET", "/consents/unresolved"): [Way("mine")],
    ("POST", "/consents/unresolved/{patient_id}/{consent_id}"): [
        Way(
            "a consent that names its entry",
            on_p(consent_id="consent to revoke"),
            form=lambda w, c: {"recipient": w.ids["entry user spare@nowhere.test"]},
        )
    ],
    ("GET", P_PATH): [
        Way("P", P),
        Way("Q", Q),
        Way("P, another purpose", P, query=other_purpose),
        Way("not an id", {"patient_id": "=not-an-id"}),
    ],
    ("POST", f"{P_PATH}/forms/{{action_name}}"): [
        form_action(
            "attended",
            {"text": "Attended", "modality": "cbt"},
            session_id="session for the page",
        ),
        form_action(
            "dose",
            {"dose.amount": "75", "dose.unit": "mg", "reason": "Review"},
            medication_id="medication to change",
        ),
        form_action(
            "reported",
            {"dose.amount": "50", "dose.unit": "mg", "note": "Says so"},
            medication_id="medication to change",
        ),
        form_action("phq-9", {f"answers.{i}": "1" for i in range(1, 10)}),
        form_action("gad-7", {f"answers.{i}": "1" for i in range(1, 8)}),
        form_action(
            "lab",
            {"value": "4.2", "unit": "mmol/L", "final": "true"},
            order_id="order for the page",
        ),
        form_action(
            "lapse", {"substance": "alcohol", "occurred_on": day(-1), "circumstances": "Party"}
        ),
        form_action("message", {"to": [USERS[Role.PRESCRIBER][0]], "subject": "Hi", "body": "Ok"}),
        form_action("acknowledge", {}, message_id="message to therapist"),
        form_action("reply", {"body": "Noted."}, message_id="message to therapist"),
        form_action("observe", {"cue": "sleep", "change": "usual", "observation": "As usual"}),
        # version 1 (the registration) is no clinical entry: refused beside the field
        form_action("correct", {"entry_version": "1", "reason": "Typo"}),
        form_action(
            "amend", {"entry_version": "1", "field": "text", "value": "New", "reason": "Typo"}
        ),
        form_action(
            "document",
            {
                "mode": "in-person",
                "kind": "standard",
                "modality": "cbt",
                "duration_minutes": "50",
                "text": "Held",
            },
        ),
        form_action(
            "schedule",
            {
                "starts_at": "2031-03-03T10:00+00:00",
                "duration_minutes": "50",
                "mode": "telehealth",
                "kind": "standard",
                "modality": "cbt",
            },
        ),
        form_action("psychotherapy", {"text": "Private"}),
        form_action(
            "risk", {"level": "low", "method": "c-ssrs", "factors": "none", "plan": "Follow up"}
        ),
        form_action(
            "start",
            {
                "drug": "sertraline",
                "rxnorm": "36437",
                "dose.amount": "25",
                "dose.unit": "mg",
                "schedule.frequency": "once-daily",
                "route": "oral",
                "indication": "depression",
                "sud_treatment": "false",
            },
        ),
        form_action(
            "switch",
            {
                "drug": "fluoxetine",
                "rxnorm": "4493",
                "dose.amount": "20",
                "dose.unit": "mg",
                "schedule.frequency": "once-daily",
                "indication": "depression",
                "cross_taper": "false",
                "reason": "Side effects",
            },
            medication_id="medication to change",
        ),
        form_action(
            "taper",
            {
                "steps.0.on_or_after": day(7),
                "steps.0.dose.amount": "25",
                "steps.0.dose.unit": "mg",
                "reason": "Remission",
            },
            medication_id="medication to change",
        ),
        form_action(
            "timing",
            {
                "schedule.frequency": "twice-daily",
                "dose_per_administration.amount": "25",
                "dose_per_administration.unit": "mg",
                "reason": "Nausea",
            },
            medication_id="medication to change",
        ),
        form_action("stop", {"reason": "Done"}, medication_id="medication to change"),
        form_action("order", {"loinc": "14334-7", "test_name": "Lithium", "reason": "Level"}),
        form_action("no-such-form", {}),
    ],
    ("POST", f"{P_PATH}/break-glass"): [
        Way("P", P, form={"reason": "Found unresponsive"}),
        Way("Q", Q, form={"reason": "Found unresponsive"}),
        Way("no reason", P, form={"reason": ""}),
    ],
    ("GET", "/me"): [
        Way("my page"),
        Way("who has seen it, an earlier page", query={"before": "100000"}),
        Way("who has seen it, no log position", query={"before": "soon"}),
    ],
    ("GET", "/me/record"): [Way("download")],
    ("GET", "/me/record.pdf"): [Way("download")],
    ("POST", "/me/forms/{action_name}"): [
        my_form("phq-9", {f"answers.{i}": "0" for i in range(1, 10)}),
        my_form("gad-7", {f"answers.{i}": "1" for i in range(1, 8)}),
        my_form("sleep", {"night_of": day(-1), "hours_asleep": "7", "quality": "3"}),
        my_form(
            "adherence",
            {"period_days": "7", "doses_prescribed": "7", "doses_taken": "6"},
            medication_id="medication to change",
        ),
        my_form(
            "side-effect",
            {"effect": "Headache", "severity": "mild"},
            medication_id="medication to change",
        ),
        my_form(
            "lapse", {"substance": "alcohol", "occurred_on": day(-1), "circumstances": "A party"}
        ),
        my_form("message", {"to": [USERS[Role.THERAPIST][0]], "subject": "Hi", "body": "Ok"}),
        my_form("no-such-form", {}),
    ],
    ("POST", "/me/consents"): [
        Way(
            "a grant",
            form=lambda w, c: {
                "recipient": w.ids[f"entry user page.{c}@nowhere.test"],
                "data_classes": ["lab"],
                "purpose": "treatment",
            },
        ),
        Way("no classes", form={"recipient": "x@nowhere.test"}),
    ],
    ("POST", "/me/consents/{consent_id}/revoke"): [
        Way("in force", {"consent_id": "consent to revoke"}, form={"reason": "Changed my mind"}),
        Way("already revoked", {"consent_id": "revoked consent"}, form={}),
    ],
    ("GET", f"{P_PATH}/report.pdf"): [Way("P", P), Way("Q", Q)],
    ("GET", "/compliance"): [Way("index")],
    ("GET", "/compliance/disclosure-report"): [
        Way("by MRN", query=lambda w, c: {"patient": w.ids["MRN of P"]}),
        Way("blank", query={"patient": ""}),
    ],
    ("GET", "/compliance/access-log"): [
        Way("all"),
        Way("P", query=lambda w, c: {"patient": w.ids["P"]}),
        Way("csv", query={"format": "csv"}),
    ],
    ("GET", "/compliance/disclosure-report/{patient_id}"): [
        Way("P", P),
        Way("Q", Q),
        Way("P csv", P, query={"format": "csv"}),
    ],
    ("GET", "/compliance/review"): [Way("queue")],
    ("POST", "/compliance/review/{access_id}"): [
        Way(
            "a break-glass read",
            {"access_id": "break-glass for the page"},
            form={"outcome": "appropriate", "note": "Emergency confirmed"},
        )
    ],
    ("GET", "/compliance/replay/{access_id}"): [
        Way("a break-glass read", {"access_id": "break-glass for the API"})
    ],
    # FastAPI's own pages and the stylesheet: no patient data, called all the same.
    ("GET", "/openapi.json"): [Way("schema")],
    ("GET", "/docs"): [Way("swagger")],
    ("GET", "/docs/oauth2-redirect"): [Way("redirect")],
    ("GET", "/redoc"): [Way("redoc")],
    ("GET", "/static"): [Way("stylesheet", path="/static/tandem.css")],
}


def page_form(w: World, way: Way, caller: str, csrf: str) -> dict[str, Any] | None:
    """A page's form, with the session's CSRF token."""
    form = value(way.form, w, caller)
    return None if form is None else {**form, "csrf": csrf}


# --- the CLI -----------------------------------------------------------------------------

# Commands that print no patient data, each with the reason. Every other command must be
# exercised below, as an audited read.
CLI_ALLOWED = {
    "demo": "loads the demo stories; prints counts, the demo users' emails and the password",
    "user add": "creates an account; prints its email, role and organisation",
    "user deactivate": "closes an account; prints its email",
    "directory add": "registers a consent recipient; prints its kind, name, role and id",
    "directory list": "lists the directory of consent recipients (no patient's data)",
    "directory remove": "takes a recipient out of the directory; prints its id",
    "directory credential": "issues a recipient's broker credential; prints it once",
    "rebuild": "rebuilds the record index; prints a position and a duration",
    "project": "keeps the record index; prints a position",
    "verify": "checks the hash chain and the last published head; prints intact or the "
    "broken positions, and the head's position, time and key id",
    "backup": "copies the store into a folder; prints the chain head's position and link",
    "restore": "puts a backup back and re-anchors the chain; prints positions and times",
    "keys init-signing": "makes the chain heads' signing key; prints its id and path",
    "keys rotate-signing": "rotates the signing key; prints the old and new key ids",
    "keys new-cipher-key": "prints a fresh random cipher key (no patient data)",
    "remind": "sends due reminders to the patients themselves (their own appointments, "
    "questionnaires and doses, never a drug name) and prints counts",
    "relay": "publishes consented share envelopes to Kafka; prints counts",
    "receive": "another organisation's process: keeps and, with --show, prints that "
    "recipient's own copy of what the relay shared with it, not Tandem's record",
    "serve": "serves the API and the pages (covered by the route tables above)",
}
CLI_AUDITED = {"events"}


def cli_commands(group: Any, prefix: str = "") -> set[str]:
    """Every command's full name ("user add"), groups walked (typer vendors its own click,
    so a group is whatever has subcommands)."""
    found: set[str] = set()
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found |= cli_commands(command, f"{prefix}{name} ")
        else:
            found.add(f"{prefix}{name}")
    return found


# --- the sweep -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    kind: str  # "api" or "page"
    method: str
    route: str
    way: Way
    caller: str

    @property
    def id(self) -> str:
        return f"{self.kind} {self.method} {self.route} [{self.way.name}] as {self.caller}"


def all_cases() -> list[Case]:
    cases = [
        Case(kind, method, route, way, caller)
        for kind, table in (("api", API), ("page", PAGES))
        for (method, route), ways in table.items()
        for way in ways
        for caller in CALLERS
    ]
    # Reads first, so that the sweep's own writes never change what a read is shown.
    return sorted(cases, key=lambda c: c.method != "GET")


CASES = all_cases()


@dataclass
class Outcome:
    status: int
    found: dict[str, str]  # marker -> class, as seen in the answer
    records: list[AccessRecorded]
    problems: list[str]


@dataclass
class Sweep:
    outcomes: dict[str, Outcome]
    forms_offered: set[str]
    my_forms_offered: set[str]


def pdf_streams(pdf: bytes) -> list[bytes]:
    """Every stream of a PDF, inflated where it is compressed (fpdf2 may deflate pages)."""
    inflated = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            inflated.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return inflated


def searchable(answer: Response) -> bytes:
    parts = [answer.content, *(f"{k}: {v}".encode() for k, v in answer.headers.items())]
    if answer.content.startswith(b"%PDF"):
        parts += pdf_streams(answer.content)
    return b"\n".join(parts).lower()


class Replays:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.cache: dict[UUID, tuple[bytes, bool]] = {}

    def __call__(self, access_id: UUID) -> tuple[bytes, bool]:
        if access_id not in self.cache:
            body, matches = recorded_answer(self.services, access_id)
            self.cache[access_id] = (body.lower(), matches)
        return self.cache[access_id]


def judge(
    markers: dict[str, str], seen: bytes, records: list[AccessRecorded], replays: Replays
) -> tuple[dict[str, str], list[str]]:
    found = {m: cls for m, cls in markers.items() if m.lower().encode() in seen}
    problems = []
    for record in records:
        if not replays(record.originator_id)[1]:
            problems.append(f"access record {record.originator_id} does not replay to its hash")
    for marker, cls in sorted(found.items(), key=lambda item: item[1]):
        naming = [r for r in records if cls in {c.value for c in r.classes}]
        if not naming:
            left = [(r.view, sorted(c.value for c in r.classes)) for r in records]
            problems.append(
                f"{cls} data ({marker}) shown with no access record naming {cls}: {left}"
            )
        elif not any(marker.lower().encode() in replays(r.originator_id)[0] for r in naming):
            problems.append(
                f"{cls} data ({marker}) shown that none of the reads recorded for {cls} answered "
                f"({', '.join(r.view for r in naming)}): it came from an unrecorded read"
            )
    return found, problems


def send(w: World, case: Case, browser: Browser) -> Response:
    way = case.way
    path = way.path or case.route
    for name, ref in way.slots.items():
        path = path.replace("{" + name + "}", w.ref(ref))
    query = value(way.query, w, case.caller)
    if case.kind == "api":
        return w.client.request(
            case.method,
            path,
            params=query,
            json=value(way.json, w, case.caller),
            data=value(way.form, w, case.caller),
            headers=w.fresh_bearer(case.caller) if way.fresh_session else w.bearer(case.caller),
        )
    return browser.client.request(
        case.method,
        path,
        params=query,
        data=page_form(w, way, case.caller, browser.csrf),
        headers={"Accept": "text/html"},
    )


def run(w: World, case: Case, replays: Replays) -> tuple[Outcome, str]:
    fresh = case.kind == "page" and case.way.fresh_session
    browser = w.browser(case.caller) if fresh else w.browsers[case.caller]
    before = log_head(w.services)
    answer = send(w, case, browser)
    records = access_records_after(w.services, before)
    found, problems = judge(w.markers, searchable(answer), records, replays)
    if answer.status_code >= 500:
        problems.append(f"answered {answer.status_code}: {answer.text[:300]}")
    return Outcome(answer.status_code, found, records, problems), answer.text


@pytest.fixture(scope="module")
def sweep(world: World) -> Sweep:
    replays = Replays(world.services)
    outcomes: dict[str, Outcome] = {}
    forms: set[str] = set()
    my_forms: set[str] = set()
    for case in CASES:
        outcomes[case.id], text = run(world, case, replays)
        if case.kind == "page":
            forms.update(re.findall(r"/patients/[^/\"]+/forms/([A-Za-z0-9_-]+)", text))
            my_forms.update(re.findall(r"/me/forms/([A-Za-z0-9_-]+)", text))
    return Sweep(outcomes, forms, my_forms)


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_an_answer_with_patient_data_left_an_access_record_for_it(
    sweep: Sweep, case_id: str
) -> None:
    outcome = sweep.outcomes[case_id]
    assert not outcome.problems, "\n".join(outcome.problems)


def test_every_route_and_page_of_the_app_is_in_the_tables(world: World) -> None:
    schema = {
        (method.upper(), path)
        for path, operations in world.app.openapi()["paths"].items()
        for method in operations
    }
    pages: set[tuple[str, str]] = set()
    for route in app_routes(world.app):
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount):
            pages.add(("GET", route.path))
        elif not getattr(route, "include_in_schema", True):
            methods = set(route.methods or ()) - {"HEAD"} or {"GET"}
            pages.update((method, route.path) for method in methods)
    assert sorted(schema - API.keys()) == [], "API routes this test does not know how to call"
    assert sorted(API.keys() - schema) == [], "API routes in the table that the app lacks"
    assert sorted(pages - PAGES.keys()) == [], "page routes this test does not know how to call"
    assert sorted(PAGES.keys() - pages) == [], "page routes in the table that the app lacks"


def app_routes(app: Any) -> list[Any]:
    """Every route, those of included routers too (recent FastAPI keeps an included
    router's routes behind one entry in `app.routes`)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def test_every_cli_command_is_audited_or_allowed_with_a_reason() -> None:
    commands = cli_commands(typer.main.get_command(cli_app))
    known = CLI_AUDITED | CLI_ALLOWED.keys()
    assert sorted(commands - known) == [], "commands this test does not know"
    assert sorted(known - commands) == [], "commands in the tables that the CLI lacks"
    assert all(CLI_ALLOWED.values())


def test_every_role_has_a_user_and_every_data_class_a_marker(world: World) -> None:
    assert set(USERS) == set(Role) - {Role.SYSTEM}  # the system is nobody who reads
    assert set(MARKERS) == {c.value for c in DataClass} - {c.value for c in NOT_RECORD_CLASSES}
    assert set(world.markers.values()) == set(MARKERS)


def test_the_sweep_saw_every_data_class_and_refusals(sweep: Sweep) -> None:
    """Not vacuous: every class's marker was shown somewhere (and so checked), outside
    readers were both answered under consent and refused, and every role got answers."""
    unseen = [
        c for c, m in MARKERS.items() if not any(m in o.found for o in sweep.outcomes.values())
    ]
    assert unseen == [], "data classes whose marker no answer showed"
    bases = {r.basis for o in sweep.outcomes.values() for r in o.records}
    assert {"treating-team", "own-record", "consent", "break-the-glass"} <= bases
    refused = [i for i, o in sweep.outcomes.items() if o.status == 403 and " as anonymous" not in i]
    assert len(refused) > 0
    for caller in CALLERS:
        for kind in ("api", "page"):
            answered = [
                o
                for i, o in sweep.outcomes.items()
                if i.startswith(kind) and i.endswith(f" as {caller}") and o.status == 200
            ]
            assert answered, f"no {kind} answer to {caller}"
    for role in (T, RX, PT, Role.PRIMARY_CARE.value, Role.SCHOOL_COUNSELOR.value):
        saw = [o for i, o in sweep.outcomes.items() if i.endswith(f" as {role}") and o.found]
        assert saw, f"{role} was shown no patient data at all"


def test_every_form_a_page_offers_is_in_the_table(sweep: Sweep) -> None:
    table = {
        way.slots["action_name"].removeprefix("=")
        for way in PAGES[("POST", f"{P_PATH}/forms/{{action_name}}")]
    }
    assert sweep.forms_offered, "no page offered a form"
    assert sorted(sweep.forms_offered - table) == []
    mine = {
        way.slots["action_name"].removeprefix("=")
        for way in PAGES[("POST", "/me/forms/{action_name}")]
    }
    assert sweep.my_forms_offered, "the patient's page offered no form"
    assert sorted(sweep.my_forms_offered - mine) == []


def test_tandem_events_names_its_operator_and_reason_and_is_recorded(world: World) -> None:
    """`tandem events PATIENT --user EMAIL --reason TEXT`, as every role's operator: what
    it prints is backed by access records like any other read."""
    runner = CliRunner()
    replays = Replays(world.services)
    shown: set[str] = set()
    problems: list[str] = []
    for caller in (c for c in CALLERS if c != ANONYMOUS):
        for extra in ([], ["--json"]):
            before = log_head(world.services)
            result = runner.invoke(
                cli_app,
                ["events", world.ids["P"], "--user", email_of(caller), "--reason", "Audit", *extra],
                env={"TANDEM_DATA_DIR": str(world.data_dir), "COLUMNS": "1000"},  # no folding
            )
            records = access_records_after(world.services, before)
            found, wrong = judge(world.markers, result.output.lower().encode(), records, replays)
            shown |= set(found.values())
            problems += [f"{caller} {extra}: {p}" for p in wrong]
            if caller == T:
                assert result.exit_code == 0, result.output
    assert problems == []
    assert {"demographics", "progress-note"} <= shown
