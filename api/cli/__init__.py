"""The `tandem` command line: serve, demo data, users and a patient's events."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from application.clinic import Clinic
from application.directory import listing
from application.errors import BrokerUnavailable, Unauthorized
from application.operator import read_as_operator
from application.schemas.directory import BrokerCredential
from application.users import add_account, deactivate_now
from bootstrap import (
    Settings,
    bootstrap,
    bootstrap_services,
    chain_store_for,
    index_runner,
    receiver_for,
    receiver_store_for,
    relay_for,
    reminders_for,
)
from domain.consent import Purpose
from domain.errors import TandemError
from domain.events import Actor
from domain.vocabulary import Role

app = typer.Typer(help="Tandem: care coordination for behavioral health.", no_args_is_help=True)
user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")
directory_app = typer.Typer(help="The directory of consent recipients.", no_args_is_help=True)
app.add_typer(directory_app, name="directory")
console = Console()
err = Console(stderr=True)
CLI_ACTOR = Actor.system("cli")


def _clinic() -> Clinic:
    return bootstrap(Settings())


def _fail(exc: Exception) -> None:
    err.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(code=1)


@app.command()
def demo(
    password: Annotated[
        str | None,
        typer.Option(
            help="Password for every demo user (default: TANDEM_DEMO_PASSWORD, "
            "else one is generated and printed)."
        ),
    ] = None,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Load only when the store holds no events.")
    ] = False,
) -> None:
    """Load the four demo stories (synthetic patients over many weeks) and demo users."""
    from demo import DEMO_STEPS, demo_loaded, load_demo

    settings = Settings()
    services = bootstrap_services(settings, with_tokens=False)
    clinic = services.clinic
    if if_empty and clinic.position() > 0:
        console.print("The store already holds events; demo not loaded.")
        return
    if demo_loaded(clinic):
        err.print("The demo is already loaded in this store.")
        raise typer.Exit(code=1)
    generated = False
    if password is None and settings.demo_password is not None:
        password = settings.demo_password.get_secret_value()
    if password is None:
        password, generated = secrets.token_urlsafe(12), True
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("Loading demo stories", total=DEMO_STEPS)

        def step(text: str) -> None:
            progress.update(task, description=text, advance=1)

        try:
            result = load_demo(services, password, progress=step, broker=services.share_access)
        except (TandemError, BrokerUnavailable) as exc:
            _fail(exc)
    console.print(f"Demo loaded: {len(result.users)} users, {len(result.patients)} patients.")
    console.print("Users: " + ", ".join(result.users))
    if generated:
        console.print(f"Demo password (generated, shown once): [bold]{password}[/bold]")
    for name, credential in result.credentials:
        console.print(f"{name}:", highlight=False)
        _print_credential(credential)


@user_app.command("add")
def user_add(
    email: str,
    role: Annotated[Role, typer.Option(help="The user's role.")],
    organisation: Annotated[str, typer.Option(help="The user's organisation.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    patient: Annotated[
        str | None, typer.Option(help="MRN or id of the patient (patients and supporters).")
    ] = None,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Password (prompted when not given).",
        ),
    ] = "",
) -> None:
    """Create a user account (its password is stored only as an Argon2 hash)."""
    services = bootstrap_services(Settings(), with_tokens=False)
    try:
        add_account(
            services.writer,
            services.clinic,
            services.passwords,
            CLI_ACTOR,
            password=password,
            patient=patient,
            email=email,
            display_name=name,
            role=role,
            organisation=organisation,
        )
    except TandemError as exc:
        _fail(exc)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from None
    console.print(f"Created {role.value} {email.lower()} ({organisation}).")


@directory_app.command("add")
def directory_add(
    kind: Annotated[str, typer.Argument(help="organisation or user.")],
    name: Annotated[str, typer.Argument(help="The organisation's or the person's name.")],
    role: Annotated[Role, typer.Option(help="The role the recipient acts in.")],
    email: Annotated[str | None, typer.Option(help="A user entry's sign-in email.")] = None,
) -> None:
    """Register an outside recipient that consents may name; prints its entry id."""
    services = bootstrap_services(Settings(), with_tokens=False)
    try:
        receipt = services.directory.register_now(
            CLI_ACTOR, kind=kind, name=name, role=role, email=email
        )
    except (TandemError, BrokerUnavailable) as exc:
        _fail(exc)
    console.print(f"Registered {kind} {name} ({role.value}): {receipt.entry_id}")
    if receipt.broker_credential is not None:
        _print_credential(receipt.broker_credential)


def _print_credential(credential: BrokerCredential) -> None:
    """The broker credential, shown this once: the password is kept nowhere."""
    console.print(
        "Broker credential (shown once; give it to the recipient, it is kept nowhere):\n"
        f"  TANDEM_KAFKA_USERNAME={credential.username}\n"
        f"  TANDEM_KAFKA_PASSWORD={credential.password}\n"
        f"  {credential.mechanism} over TLS; reads topic {credential.topic}, "
        f"group {credential.group}",
        highlight=False,
        soft_wrap=True,
    )


@directory_app.command("remove")
def directory_remove(
    entry_id: Annotated[str, typer.Argument(help="The entry's id (tandem directory list).")],
    reason: Annotated[str, typer.Option(help="Why it leaves the directory.")],
) -> None:
    """Take an entry out of the directory and revoke its broker credential and ACLs."""
    services = bootstrap_services(Settings(), with_tokens=False)
    try:
        receipt = services.directory.remove_now(CLI_ACTOR, entry_id, reason)
    except (TandemError, BrokerUnavailable) as exc:
        _fail(exc)
    console.print(f"Removed {receipt.entry_id} from the directory.")


@directory_app.command("credential")
def directory_credential(
    entry_id: Annotated[str, typer.Argument(help="The entry's id (tandem directory list).")],
) -> None:
    """Issue a new broker credential for an entry (an earlier one stops working)."""
    services = bootstrap_services(Settings(), with_tokens=False)
    try:
        credential = services.directory.issue_credential_now(CLI_ACTOR, entry_id)
    except (TandemError, BrokerUnavailable) as exc:
        _fail(exc)
    _print_credential(credential)


@directory_app.command("list")
def directory_list() -> None:
    """The directory of recipients: each entry's id, kind, name, role and email."""
    table = Table("entry id", "kind", "name", "role", "email")
    for entry in listing(_clinic().directory()):
        table.add_row(
            str(entry.entry_id), entry.kind, entry.name, entry.role.value, entry.email or ""
        )
    console.print(table)


@user_app.command("deactivate")
def user_deactivate(
    email: str, reason: Annotated[str, typer.Option(help="Why the account is closed.")]
) -> None:
    """Deactivate a user account; its tokens stop working."""
    services = bootstrap_services(Settings(), with_tokens=False)
    try:
        deactivate_now(services.writer, services.clinic, CLI_ACTOR, email, reason)
    except TandemError as exc:
        _fail(exc)
    console.print(f"Deactivated {email.lower()}.")


@app.command()
def events(
    patient: Annotated[str, typer.Argument(help="The patient's MRN or id.")],
    user: Annotated[
        str, typer.Option("--user", help="Your own account's email: you read as yourself.")
    ],
    reason: Annotated[str, typer.Option(help="Why you read this record (kept in the record).")],
    purpose: Annotated[Purpose, typer.Option(help="The purpose of the read.")] = Purpose.TREATMENT,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Show a patient's events as your account may see them. The read is decided by the
    access policy and recorded (who, why) like any other read."""
    services = bootstrap_services(Settings(), with_tokens=False)
    try:
        found = read_as_operator(services, user, patient, reason, "events", purpose)
    except (TandemError, Unauthorized) as exc:
        _fail(exc)
        return
    finally:
        services.clinic.close()
    entries = found.json().get("entries") or []
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(entry, default=str))
        return
    table = Table(
        title=f"Patient {patient}: {len(entries)} events you may see (access {found.access_id})"
    )
    for column in ("#", "clinical time", "by", "class", "event", "summary"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(
            str(e["version"]),
            e["clinical_time"][:16].replace("T", " "),
            f"{e['author']} ({e['author_role']})",
            e["data_class"],
            e["kind"],
            e["summary"],
        )
    console.print(table)


@app.command()
def rebuild() -> None:
    """Rebuild the record index (every role view and the audit index) from the first event."""
    settings = Settings()
    clinic = bootstrap(settings)
    runner = index_runner(settings, clinic)
    started = time.perf_counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        progress.add_task(
            f"Rebuilding the record index from {clinic.position()} events", total=None
        )
        position = runner.rebuild()
    console.print(
        f"Record index rebuilt to position {position} in {time.perf_counter() - started:.1f} s."
    )


@app.command()
def project(
    loop: Annotated[bool, typer.Option("--loop", help="Keep following the log.")] = False,
) -> None:
    """Run the record-index projection as its own process (a projection worker): bring the
    index in DATA_DIR up to the store's head, and with --loop keep it there."""
    settings = Settings().model_copy(update={"index_worker": "inline"})  # this one projects
    clinic = bootstrap(settings)
    runner = index_runner(settings, clinic, poll_seconds=0.02)  # no writer here to wake it
    position = runner.catch_up()
    console.print(f"record index at position {position}")
    if loop:
        runner.start()
        try:
            while True:
                time.sleep(60)
        except KeyboardInterrupt:
            runner.stop()


@app.command()
def verify(
    link: Annotated[
        bool, typer.Option("--link/--no-link", help="First link events written since the last run.")
    ] = True,
) -> None:
    """Prove the stored log intact (hash chain), or name its first broken link (exit 1)."""
    from application.chain_link import ChainError
    from application.hash_chain import HashChain

    settings = Settings()
    clinic = bootstrap(settings)
    try:
        with chain_store_for(settings) as store:
            chain = HashChain(clinic, store)
            result = chain.verify()
            if result.intact and link:  # never extend past a break
                chain.extend()
                result = chain.verify()
    except ChainError as exc:
        _fail(exc)
        return
    finally:
        clinic.close()
    if not result.intact:
        err.print(f"[red]broken[/red] at position {result.first_broken}: {result.reason}")
        err.print(f"{result.checked} events intact before it; chain head {result.head}")
        raise typer.Exit(code=1)
    console.print(f"[green]intact[/green]: {result.reason}")
    # Record the head somewhere the database's administrators cannot edit (an anchor).
    console.print(f"head {result.head} {result.head_link_hex}")


@app.command()
def remind(
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep running, every --every seconds.")
    ] = False,
    every: Annotated[float, typer.Option(help="Seconds between runs with --loop.")] = 60.0,
) -> None:
    """Send the reminders that are due (appointments, questionnaires, doses) through the
    configured sender (TANDEM_NOTIFY_SENDER=log|smtp); each is recorded, never sent twice."""
    import logging

    from domain.events import now

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    dispatcher = reminders_for(Settings())
    while True:
        outcome = dispatcher.run_once(now())
        console.print(
            f"reminders: {outcome.sent} sent, {outcome.failed} failed, "
            f"{outcome.skipped_no_address} without an address"
        )
        if not loop:
            return
        time.sleep(every)


@app.command()
def relay(
    once: Annotated[
        bool, typer.Option("--once", help="Publish what is pending, then stop.")
    ] = False,
) -> None:
    """Share consented events with outside providers through Kafka (one topic per
    recipient, keyed by patient); checkpoints only after the broker acknowledges."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    runner = relay_for(Settings())
    try:
        if once:
            console.print(f"relay: {runner.run_once()} envelopes published")
        else:
            runner.run_forever()
    finally:
        runner.close()


@app.command()
def receive(
    recipient: Annotated[str, typer.Option(help="The recipient (organisation or user email).")],
    data_dir: Annotated[
        Path | None, typer.Option(help="The receiver's own store (default: DATA_DIR/receivers).")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Take what is waiting, then stop.")] = False,
    show: Annotated[
        bool, typer.Option("--show", help="Print the receiver's view and stop.")
    ] = False,
) -> None:
    """Build a recipient's view from its Kafka share stream alone, in its own store."""
    settings = Settings()
    store = receiver_store_for(settings, recipient, data_dir)
    if show:
        console.print_json(
            json.dumps(
                {
                    "recipient": recipient,
                    "medications": store.medication_list(),
                    "events": [
                        {
                            k: e[k]
                            for k in ("patient_id", "position", "kind", "data_class", "summary")
                        }
                        for e in store.events()
                    ],
                    "revocations": store.revocations(),
                }
            )
        )
        return
    receiver = receiver_for(settings, recipient, store)
    try:
        while True:
            stored = receiver.poll_once()
            if stored.new or stored.duplicates or stored.refused:
                console.print(
                    f"received {stored.new} new, {stored.duplicates} duplicates, "
                    f"{stored.refused} refused after revocation"
                )
            elif once:
                return
    finally:
        receiver.close()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(Settings()), host=host, port=port)


def main() -> None:
    app()
