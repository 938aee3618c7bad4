"""Pure rules of the account use cases (no AWS): e-mail format, pending e-mail expiry, personal
words, what the export hides, and the French e-mails."""

from __future__ import annotations

import pytest

from oph.accounts import mails
from oph.accounts import profile as account_service
from oph.accounts.model import Account
from oph.platform import clock
from oph.platform.office import get_office
from oph.platform.validation import is_valid_email
from oph.privacy import export as data_export


def _account(**overrides) -> Account:
    values = {
        "account_id": "a1",
        "tenant_number": "123456",
        "holder_id": "h1",
        "email": "jean.dupond@exemple.com",
        "status": "active",
        "password_hash": "$2b$04$hash",
        "first_name": "Jean",
        "last_name": "DUPOND",
    }
    values.update(overrides)
    return Account(**values)


@pytest.mark.parametrize(
    "address",
    [
        "jean.dupond@exemple.com",
        "J.Dupond+loyer@Sous.Domaine.fr",
        " a@b.co ",
        "o'neil@exemple.com",
        "trimmed@exemple.com\n",
        "x@xn--e1afmkfd.fr",
    ],
)
def test_valid_emails(address):
    assert is_valid_email(address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "pas-une-adresse",
        "a@b",
        "a@b.c",
        "a b@exemple.com",
        "a@exemple..com",
        ".a@exemple.com",
        "a.@exemple.com",
        "a@-exemple.com",
        "a@@exemple.com",
        "jean@exemple .com",
        "jéan@exemple.com",
        "a" * 65 + "@exemple.com",
        "a@" + "b" * 250 + ".fr",
        "<script>@exemple.com",
    ],
)
def test_invalid_emails(address):
    assert not is_valid_email(address)


def test_pending_email_lives_24_hours(monkeypatch):
    now = clock.now_ts()
    account = _account(pending_email="new@exemple.com", pending_email_expires_at=int(now) + 10)
    assert account_service.live_pending_email(account) == "new@exemple.com"
    monkeypatch.setattr(clock, "now_ts", lambda: now + 11)
    assert account_service.live_pending_email(account) is None
    assert account_service.live_pending_email(_account()) is None


def test_personal_words_are_names_tenant_number_and_local_part():
    assert account_service.personal_words(_account()) == ["Jean", "DUPOND", "123456", "jean.dupond"]


def test_export_hides_keys_and_secrets():
    shown = data_export._public(
        {
            "pk": "ACCOUNT#a1",
            "sk": "ACCOUNT",
            "gsi1pk": "PAYMENT#p",
            "password_hash": "$2b$",
            "refresh_hash": "x",
            "checkout_url": "https://…",
            "vads_signature": "sig",
            "email": "jean.dupond@exemple.com",
            "pending_email_expires_at": 0,
        }
    )
    assert shown == {"email": "jean.dupond@exemple.com", "pending_email_expires_at": "1970-01-01T00:00:00Z"}


def test_link_mail_names_nobody_and_comes_from_the_office():
    mail = mails.confirmation_email("new@exemple.com", "https://app.test/links/confirm-email?token=abc")
    assert mail.sender == "informatique@oph-aubervilliers.fr"
    assert mail.to == ["new@exemple.com"]
    assert "https://app.test/links/confirm-email?token=abc" in mail.text
    assert "https://app.test/links/confirm-email?token=abc" in mail.html
    assert "24 heures" in mail.text
    assert mail.text.startswith("Bonjour,")  # the recipient may not be the holder


def test_in_use_mail_has_no_link():
    mail = mails.address_in_use_email("owner@exemple.com")
    assert "http" not in mail.text.replace(get_office().website, "")  # only the office's site, in the contacts
    assert "Mot de passe oublié" in mail.text


def test_old_address_notice_says_what_to_do():
    mail = mails.change_requested_email(_account(), "new@exemple.com")
    assert mail.to == ["jean.dupond@exemple.com"]
    assert mail.text.startswith("Bonjour Jean DUPOND,")
    assert "Si vous n'êtes pas à l'origine de cette demande" in mail.text
    assert "token" not in mail.text


def test_password_changed_mail_is_french_html_and_text():
    mail = mails.password_changed_email(_account())
    assert mail.subject == "Votre mot de passe a été modifié"
    assert '<html lang="fr">' in mail.html
    assert "Mot de passe oublié" in mail.text
