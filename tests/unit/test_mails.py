"""Every e-mail, whatever its context: one greeting ("Bonjour Jean DUPOND,"), the office's
contacts at the end (text and HTML, from the stack's configuration), Paris time written the
French way; the notice e-mail's "Net à payer"; the French time formats; the error titles that
send a tenant to the office give its phone."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import oph
from oph.accounts import mails as account_mails
from oph.accounts.model import Account
from oph.documents.mails import notice_email
from oph.documents.model import NOTICE, RECEIPT, Document, net_to_pay
from oph.payments import mails as payment_mails
from oph.payments.model import SUCCEEDED, Payment
from oph.platform import clock
from oph.platform.errors import AccountDisabled, IdentityMismatch
from oph.platform.french import datetime_long_fr, time_fr
from oph.platform.mail import Email, compose, greeting
from oph.platform.settings import reset_caches

PHONE = "01 48 11 22 33"
HOLDER = "Bonjour Jean DUPOND,"


@pytest.fixture(autouse=True)
def office(monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("OFFICE_PHONE", PHONE)
    monkeypatch.setenv("OFFICE_EMAIL", "contact@exemple-office.fr")
    monkeypatch.setenv("OFFICE_HOURS", "Lundi au jeudi : 9 h – 12 h; Vendredi : 9 h – 11 h")
    monkeypatch.setenv("EMERGENCY_PHONE", "01 48 99 99 99")
    reset_caches()
    yield
    reset_caches()


@pytest.fixture
def at() -> Iterator[Callable[[str], None]]:
    """Move "now" to a UTC instant."""

    def move(instant: str) -> None:
        target = datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        clock.set_offset(target - time.time())

    yield move
    clock.set_offset(0)


def account(**changes: object) -> Account:
    values: dict[str, object] = {
        "account_id": "a1",
        "tenant_number": "123456",
        "holder_id": "h1",
        "email": "jean.dupond@exemple.com",
        "status": "active",
        "password_hash": "$2b$04$hash",
        "first_name": "Jean",
        "last_name": "DUPOND",
    }
    values.update(changes)
    return Account(**values)  # type: ignore[arg-type]


def notice(**extra: object) -> Document:
    return Document(
        doc_id="n1",
        tenant_number="123456",
        type=NOTICE,
        title="Avis d'échéance — mai 2019",
        issued_on="2019-05-24",
        s3_key="tenants/123456/notices/avis-echeance-2019-05.pdf",
        filename="avis-echeance-2019-05.pdf",
        period="2019-05",
        due_date="2019-06-10",
        amount_due_cents=22000,
        extra={"lines": [], **extra},
    )


def payment() -> Payment:
    return Payment(
        payment_id="0123456789abcdef0123456789abcdef",
        amount_cents=22000,
        status=SUCCEEDED,
        paid_at="2019-05-28T12:05:00Z",
        tenant_number="123456",
        trans_id="000042",
        trans_date="20190528120400",
    )


# ---------------------------------------------------------------- French times
@pytest.mark.parametrize(
    ("instant", "long", "short"),
    [
        ("2019-05-24T12:05:00Z", "le 24 mai 2019 à 14 h 05", "14 h 05"),  # summer: UTC+2
        ("2019-12-10T08:30:00Z", "le 10 décembre 2019 à 9 h 30", "9 h 30"),  # winter: UTC+1
        ("2019-05-31T22:30:00Z", "le 1er juin 2019 à 0 h 30", "0 h 30"),  # the Paris day after
        ("2019-03-31T01:00:00Z", "le 31 mars 2019 à 3 h 00", "3 h 00"),  # the hour skipped in spring
        ("2019-10-27T00:59:59Z", "le 27 octobre 2019 à 2 h 59", "2 h 59"),  # before falling back
        ("2019-10-27T01:00:00Z", "le 27 octobre 2019 à 2 h 00", "2 h 00"),  # after falling back
    ],
)
def test_times_are_paris_time_written_the_french_way(instant, long, short):
    assert datetime_long_fr(instant) == long
    assert time_fr(instant) == short


# ---------------------------------------------------------------- greeting and closing
@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("Jean", "DUPOND", "Bonjour Jean DUPOND,"),
        ("Jean-Pierre", "N'DIAYE", "Bonjour Jean-Pierre N'DIAYE,"),
        (" Jean ", "", "Bonjour Jean,"),
        ("", "DUPOND", "Bonjour DUPOND,"),
        ("", "", "Bonjour,"),
        (None, None, "Bonjour,"),
    ],
)
def test_one_greeting(first, last, expected):
    assert greeting(first, last) == expected


def test_compose_ends_every_message_with_the_offices_contacts():
    mail = compose("Sujet", [greeting("Jean", "DUPOND"), "Corps."], to="x@exemple.com")
    end = mail.text.split("Corps.")[1]
    assert "Nous contacter :\nOffice Public de l'Habitat d'Aubervilliers\n" in end
    assert f"Téléphone : {PHONE} — contact@exemple-office.fr" in end
    assert "Accueil : Lundi au jeudi : 9 h – 12 h\nAccueil : Vendredi : 9 h – 11 h" in end
    assert "Urgences techniques (soirs et week-ends) : 01 48 99 99 99" in end
    assert mail.text.endswith("Cet e-mail a été envoyé automatiquement, merci de ne pas y répondre.")
    html_end = mail.html.split("Corps.")[1]
    assert f"Téléphone : {PHONE} — contact@exemple-office.fr" in html_end
    assert "Accueil : Vendredi : 9 h – 11 h" in html_end
    assert "\n\n\n" not in mail.text


def _every_email() -> dict[str, Callable[[], Email]]:
    me, link = account(), "https://app.test/links/x?token=t"
    pdf = b"%PDF-1.4"
    quittance = Document("q1", "123456", RECEIPT, "Quittance", "2019-06-01", "k", "quittance-2019-05.pdf", "2019-05")
    quittance.amount_cents = 22000
    return {
        "verification": lambda: account_mails.verification_email(me.email, "t", "Jean", "DUPOND"),
        "duplicate": lambda: account_mails.duplicate_notice(me.email),
        "confirm new address": lambda: account_mails.confirmation_email("new@exemple.com", link),
        "address in use": lambda: account_mails.address_in_use_email("other@exemple.com"),
        "change requested": lambda: account_mails.change_requested_email(me, "new@exemple.com"),
        "email changed": lambda: account_mails.email_changed_email(me, "new@exemple.com"),
        "password changed": lambda: account_mails.password_changed_email(me),
        "account deleted": lambda: account_mails.account_deleted_email(me),
        "reset link": lambda: account_mails.reset_link_email(me, link),
        "password reset": lambda: account_mails.password_reset_email(me),
        "notice": lambda: notice_email(notice(balance_cents=61068, balance_date="2019-05-23"), me),
        "payment": lambda: payment_mails.confirmation_email(payment(), me, "recu.pdf", pdf),
        "quittance": lambda: payment_mails.quittance_email(quittance, pdf, me),
    }


# Sent to an address that may not be the holder's, or about an account we do not name.
ANONYMOUS = {"duplicate", "confirm new address", "address in use"}
EMAILS = _every_email()


@pytest.mark.parametrize("name", sorted(EMAILS))
def test_every_email_greets_closes_and_writes_times_the_same_way(name, at):
    at("2019-05-24T12:05:00Z")
    mail = EMAILS[name]()
    first = mail.text.split("\n\n")[0]
    assert first == ("Bonjour," if name in ANONYMOUS else HOLDER)
    assert f"<p>{first}</p>" in mail.html
    for part in (mail.text, mail.html):
        assert f"Téléphone : {PHONE}" in part
        assert "Nous contacter :" in part
        assert "UTC" not in part
        assert not re.search(r"\b\d{1,2}:\d{2}\b", part), "a time written the English way"
    assert '<html lang="fr">' in mail.html


@pytest.mark.parametrize(
    "name", ["change requested", "email changed", "password changed", "account deleted", "password reset"]
)
def test_security_emails_say_when_in_paris_time_and_give_the_offices_phone(name, at):
    at("2019-05-24T12:05:00Z")
    text = EMAILS[name]().text
    assert f"contactez l'Office au {PHONE}" in text
    if name in ("change requested", "password changed", "password reset"):
        assert "le 24 mai 2019 à 14 h 05" in text


def test_payment_confirmation_gives_the_paris_time_and_a_reference_to_read_out(at):
    text = EMAILS["payment"]().text
    assert "effectué le 28 mai 2019 à 14 h 05" in text
    assert "Référence du paiement : 123456-20190528-000042" in text
    assert "0123456789abcdef0123456789abcdef" in text  # the office's technical id, last


# ---------------------------------------------------------------- the notice's net à payer
@pytest.mark.parametrize(
    ("extra", "net"),
    [
        ({"balance_cents": 61068, "balance_date": "2019-05-23"}, 83068),  # before the issue: plus the notice
        ({"balance_cents": 61068, "balance_date": "2019-05-24"}, 61068),  # on the issue date: included
        ({"balance_cents": 83068, "balance_date": "2019-05-30"}, 83068),  # after it: included
        ({"balance_cents": -5000, "balance_date": "2019-05-23"}, 17000),  # a credit pays part of it
        ({"balance_cents": -30000, "balance_date": "2019-05-23"}, 0),  # a larger credit: nothing to pay
        ({"balance_cents": -30000, "balance_date": "2019-05-25"}, 0),
        ({"balance_cents": None, "balance_date": None}, 22000),  # no known balance: the notice itself
        ({}, 22000),
    ],
)
def test_net_to_pay(extra, net):
    assert net_to_pay(notice(**extra)) == net


def test_the_notice_email_says_what_is_really_to_pay():
    text = notice_email(notice(balance_cents=61068, balance_date="2019-05-23"), account()).text
    assert "Montant de l'avis : 220,00 €." in text
    assert "Solde de votre compte au 23/05/2019 : 610,68 € (sans cet avis)." in text
    assert "Net à payer : 830,68 €, avant le 10/06/2019." in text
    assert f"contactez l'Office au {PHONE}" in text


def test_the_notice_email_of_a_tenant_in_credit():
    text = notice_email(notice(balance_cents=-30000, balance_date="2019-05-23"), account()).text
    assert "Solde de votre compte au 23/05/2019 : 300,00 € en votre faveur (sans cet avis)." in text
    assert "Net à payer : 0,00 € : vous n'avez rien à régler pour cet avis." in text


def test_the_notice_email_without_a_known_balance():
    text = notice_email(notice(), account()).text
    assert "Solde" not in text
    assert "Net à payer : 220,00 €, avant le 10/06/2019." in text


# ---------------------------------------------------------------- titles that send to the office
def test_titles_give_the_offices_phone_read_when_raised(monkeypatch):
    assert IdentityMismatch().title == (
        "Les informations saisies ne correspondent pas à celles de l'Office. Votre numéro d'intitulé est à "
        f"retrouver sur vos avis d'échéance. En cas de difficulté, contactez l'Office au {PHONE}."
    )
    assert AccountDisabled().title == f"Votre compte a été désactivé. Contactez l'Office au {PHONE} pour le réactiver."
    monkeypatch.setenv("OFFICE_PHONE", "01 99 88 77 66")
    reset_caches()
    assert "contactez l'Office au 01 99 88 77 66." in IdentityMismatch().title
    assert "Contactez l'Office au 01 99 88 77 66 " in AccountDisabled().title


def test_every_email_is_composed_in_a_mails_module():
    """One place per context for the texts (``oph/<context>/mails.py``), one layout (compose)."""
    root = Path(oph.__file__).parent
    elsewhere = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "mails.py" and path != root / "platform" / "mail.py" and "compose(" in path.read_text()
    ]
    assert elsewhere == []
