"""Registration rules that need no AWS: input checks, field errors, the e-mails' content."""

from __future__ import annotations

import pytest

from oph.accounts import mails, registration
from oph.platform.settings import reset_caches
from oph.platform.validation import is_valid_date, is_valid_email


@pytest.fixture
def base_url(monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://app.oph-aubervilliers.fr/")
    reset_caches()
    yield "https://app.oph-aubervilliers.fr"
    monkeypatch.delenv("PUBLIC_BASE_URL")
    reset_caches()


@pytest.mark.parametrize(
    "email",
    ["jean.dupond@exemple.com", "j+tag@sous.domaine.fr", "o'neil@exemple.co.uk", "a_b-c@x-y.org"],
)
def test_valid_emails(email):
    assert is_valid_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "jean",
        "jean@",
        "@exemple.com",
        "jean@exemple",
        "jean dupond@exemple.com",
        "jean@@exemple.com",
        ".jean@exemple.com",
        "jean..dupond@exemple.com",
        "jean@-exemple.com",
        "jéan@exemple.com",
        "jean@exemple.c",
        "a" * 65 + "@exemple.com",
        "a@" + "b" * 250 + ".fr",
        "jean@ex\nemple.com",
    ],
)
def test_invalid_emails(email):
    assert not is_valid_email(email)


def test_emails_are_judged_and_kept_normalised():
    # One rule for every form (oph.platform.validation): trimmed and lower-cased first.
    assert is_valid_email("jean@exemple.com\n")
    assert _problems(email=" Jean.Dupond@Exemple.com\n", email_confirmation="jean.dupond@exemple.com") == {}


@pytest.mark.parametrize(
    ("value", "ok"),
    [("1975-09-10", True), ("1980-02-29", True), ("1981-02-29", False), ("10/09/1975", False), ("1975-9-10", False)],
)
def test_birth_dates_must_be_real_iso_dates(value, ok):
    assert is_valid_date(value) is ok


def _problems(**overrides):
    values = {
        "email": "jean.dupond@exemple.com",
        "email_confirmation": "JEAN.DUPOND@exemple.com ",
        "password": "Correct-Cheval-Pile-42",
        "password_confirmation": "Correct-Cheval-Pile-42",
        "accept_terms": True,
        "personal_words": ["Jean", "DUPOND", "123456"],
    }
    values.update(overrides)
    return {e.field: e.code for e in registration.registration_problems(**values).items}


def test_a_correct_form_has_no_problem():
    assert _problems() == {}


def test_every_problem_is_collected():
    assert _problems(
        email="x",
        email_confirmation="y",
        password="Dupond-1975!",
        password_confirmation="Dupond-1975?",
        accept_terms=False,
    ) == {
        "email": "invalid_format",
        "email_confirmation": "mismatch",
        "password": "password_policy",
        "password_confirmation": "mismatch",
        "accept_terms": "terms_not_accepted",
    }


def test_email_local_part_is_a_personal_word():
    assert _problems(password="Kq!jean.dupond7", password_confirmation="Kq!jean.dupond7") == {
        "password": "password_policy"
    }


def test_missing_email_is_required():
    assert _problems(email="  ", email_confirmation="")["email"] == "required"


def test_verification_email_is_french_with_link_validity_and_spam_hint(base_url):
    email = mails.verification_email("jean@exemple.com", "abc-_DEF+/=&", "Jean", "DUPOND")
    assert email.to == ["jean@exemple.com"]
    assert email.subject == "Confirmez votre adresse e-mail — Mon espace locataire"
    link = f"{base_url}/links/verify-email?token=abc-_DEF%2B%2F%3D%26"  # URL-encoded, no double slash
    for part in (email.text, email.html):
        assert "Bonjour Jean DUPOND," in part
        assert "24 heures" in part
        assert "courrier indésirable" in part and "spam" in part
        assert "Confirmer mon adresse" in part
    assert link in email.text
    assert link.replace("&", "&amp;") in email.html or link in email.html


def test_duplicate_notice_tells_to_log_in_or_reset(base_url):
    email = mails.duplicate_notice("jean@exemple.com")
    assert email.subject == "Tentative de création de compte avec votre adresse e-mail"
    assert "connectez-vous" in email.text
    assert "Mot de passe oublié" in email.text
    assert "verify-email" not in email.text and "verify-email" not in email.html
