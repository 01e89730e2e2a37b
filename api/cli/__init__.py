"""The `tandem` command line: serve, demo data, users and a patient's events."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from application.anchoring import Anchor, LogVerification
from application.chain_link import ChainError
from application.clinic import Clinic
from application.directory import listing
from application.errors import BrokerUnavailable, Unauthorized
from application.operator import read_as_operator
from application.recovery import restore_backup, take_backup
from application.schemas.directory import BrokerCredential
from application.services import Services
from application.users import add_account, deactivate_now
from bootstrap import (
    MisplacedSecret,
    MissingSecret,
    Settings,
    anchor_for,
    backups_for,
    bootstrap,
    bootstrap_services,
    chain_store_for,
    index_runner,
    proxy_options,
    receiver_for,
    receiver_store_for,
    relay_for,
    reminders_for,
    signing_keyring,
)
from domain.consent import Purpose
from domain.errors import TandemError
from domain.events import Actor
from domain.vocabulary import Role

app = typer.Typer(help="Tandem: care coordination for behavioral health.", no_args_is_help=True)
user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")
keys_app = typer.Typer(
    help="Keys: the chain heads' signing key, the cipher key.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
directory_app = typer.Typer(help="The directory of consent recipients.", no_args_is_help=True)
app.add_typer(directory_app, name="directory")
console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error line is never broken mid-path
CLI_ACTOR = Actor.system("cli")


def _clinic() -> Clinic:
    return bootstrap(Settings())


@contextmanager
def _services(settings: Settings | None = None) -> Iterator[Services]:
    """The application for one command, closed when the command ends, however it ends
    (closing links the chain and publishes its head, so nothing written stays unlinked)."""
    services = bootstrap_services(settings or Settings(), with_tokens=False)
    try:
        yield services
    finally:
        services.close()


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
    with _services(settings) as services:
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
    with _services() as services:
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
    with _services() as services:
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
    with _services() as services:
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
    with _services() as services:
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
    """Deactivate a user account; its tokens stop working and its page sessions end."""
    with _services() as services:
        try:
            deactivate_now(
                services.writer, services.clinic, CLI_ACTOR, email, reason, services.sessions
            )
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
    with _services() as services:
        try:
            found = read_as_operator(services, user, patient, reason, "events", purpose)
        except (TandemError, Unauthorized) as exc:
            _fail(exc)
            return
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
                e["summary"] + (f" [{e['correction']['status']}]" if e.get("correction") else ""),
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


@contextmanager
def _anchor(settings: Settings) -> Iterator[Anchor]:
    """The chain over the store settings name, with its signed heads' log (if set)."""
    from application.hash_chain import HashChain

    clinic = bootstrap(settings)
    try:
        with chain_store_for(settings) as store:
            yield anchor_for(settings, HashChain(clinic, store))
    finally:
        clinic.close()


def _print_verification(result: LogVerification) -> None:
    chain = result.chain
    if not result.intact:
        err.print(
            f"[red]broken[/red] at position {result.first_broken}: {result.reason}",
            soft_wrap=True,
        )
        if len(chain.broken) > 1:
            err.print(f"positions that do not match the chain: {list(chain.broken)}")
        err.print(f"{chain.checked} events intact before it; chain head {chain.head}")
        raise typer.Exit(code=1)
    console.print(f"[green]intact[/green]: {chain.reason}", soft_wrap=True)
    if result.anchor.anchored:
        console.print(f"anchored: {result.anchor.note}", soft_wrap=True)
    else:
        console.print(f"[yellow]not anchored[/yellow]: {result.anchor.note}", soft_wrap=True)
    console.print(f"head {chain.head} {chain.head_link_hex}")


@app.command()
def verify(
    link: Annotated[
        bool, typer.Option("--link/--no-link", help="First link events written since the last run.")
    ] = True,
) -> None:
    """Prove the stored log intact (hash chain) and in agreement with the last signed head
    published to TANDEM_HEAD_LOG, or name where it breaks (exit 1)."""
    try:
        with _anchor(Settings()) as anchor:
            result = anchor.verify(link)
    except (ChainError, MissingSecret, MisplacedSecret) as exc:
        _fail(exc)
        return
    _print_verification(result)


@app.command()
def backup(
    target: Annotated[Path, typer.Argument(help="A new (or empty) folder for the copy.")],
) -> None:
    """Copy the embedded store consistently (SQLite's online backup, safe while the API
    runs) into TARGET, after linking the chain and publishing its head (45 CFR
    164.308(a)(7))."""
    settings = Settings()
    try:
        with _anchor(settings) as anchor:
            taken = take_backup(anchor, backups_for(settings), target)
    except (TandemError, MissingSecret, MisplacedSecret) as exc:
        _fail(exc)
        return
    console.print(
        f"Backup taken at position {taken.position} at {taken.taken_at} into {taken.where}",
        soft_wrap=True,
    )
    console.print(f"head {taken.position} {taken.link}")


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="A folder `tandem backup` wrote.")],
) -> None:
    """Put a backup back in place of the store (stop the API first), and re-anchor the chain
    openly: a signed entry in the head log says the log was restored from this backup, so
    verify explains the step back. The record index is rebuilt on the next start."""
    settings = Settings()
    try:
        with _anchor(settings) as anchor:
            done = restore_backup(anchor, backups_for(settings), source)
    except (TandemError, MissingSecret, MisplacedSecret) as exc:
        _fail(exc)
        return
    b = done.backup
    console.print(
        f"Restored the backup taken at position {b.position} at {b.taken_at}", soft_wrap=True
    )
    if done.reanchor is not None:
        console.print(f"re-anchored: {done.reanchor.describe()}", soft_wrap=True)
    else:
        console.print(
            "[yellow]not re-anchored[/yellow]: TANDEM_HEAD_LOG is not set", soft_wrap=True
        )
    _print_verification(done.verification)


@keys_app.command("init-signing")
def keys_init_signing() -> None:
    """Make the chain heads' signing key in TANDEM_SIGNING_KEY_FILE (if it is not there
    yet) and print its id."""
    try:
        keyring = signing_keyring(Settings())
    except (TandemError, MissingSecret, MisplacedSecret) as exc:
        _fail(exc)
        return
    console.print(f"signing key {keyring.key_id} in {keyring.path}", soft_wrap=True)


@keys_app.command("rotate-signing")
def keys_rotate_signing() -> None:
    """Sign chain heads with a new key from now on; the old key's public half stays in the
    keyring, so heads it signed still verify (restart the API to sign with the new key)."""
    try:
        old, new = signing_keyring(Settings(), create=False).rotate()
    except (TandemError, MissingSecret, MisplacedSecret) as exc:
        _fail(exc)
        return
    console.print(f"signing key {new} replaces {old} (kept for checking)")


@keys_app.command("new-cipher-key")
def keys_new_cipher_key() -> None:
    """Print a new cipher key for a rotation: set it as TANDEM_CIPHER_KEY and move the one
    it replaces into TANDEM_CIPHER_OLD_KEYS (comma-separated), where it only decrypts."""
    from eventsourcing.cipher import AESCipher

    typer.echo(AESCipher.create_key(32))


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
    """Serve the HTTP API (and the pages). Proxy headers are believed only from the
    addresses TANDEM_TRUSTED_PROXIES names (default: none)."""
    import uvicorn

    from api.app import create_app

    settings = Settings()
    uvicorn.run(create_app(settings), host=host, port=port, **proxy_options(settings))


def main() -> None:
    app()
