"""The office's password policy (no AWS: pure function over the shipped list)."""

from __future__ import annotations

import pytest

from oph.accounts import password_policy
from oph.accounts.password_policy import check_password
from tests.conftest import ROOT

STRONG = "Correct-Cheval-Pile-42"


def test_list_is_shipped_inside_the_layer_package_and_large():
    path = password_policy.COMMON_PASSWORDS_FILE
    assert path.is_file()
    # layers/common/Makefile copies the whole oph package (data included) into the layer.
    assert path.resolve().is_relative_to((ROOT / "layers" / "common" / "oph").resolve())
    words = password_policy.common_passwords()
    assert len(words) >= 10_000
    french = ["azerty", "soleil", "motdepasse", "doudou", "chouchou", "loulou", "marseille", "bonjour", "jetaime"]
    assert set(french) <= words
    assert all(w == w.strip() and not w.startswith("#") for w in words)


def test_list_is_loaded_once_per_container():
    password_policy.common_passwords.cache_clear()
    check_password(STRONG)
    check_password("Autre-Chose-99")
    info = password_policy.common_passwords.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_strong_passwords_pass():
    for password in (STRONG, "Xk9#mPq2vL", "Tuile!Orage7Brume", "ÉtéÀAubervilliers-2024"):
        assert check_password(password) is None, password


@pytest.mark.parametrize(("length", "ok"), [(7, False), (8, True), (128, True), (129, False)])
def test_length_between_8_and_128(length, ok):
    password = ("Zq9!" + "xK7#" * 40)[:length]
    message = check_password(password)
    assert (message is None) is ok
    if not ok:
        assert message == "Le mot de passe doit contenir entre 8 et 128 caractères."


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("kxqzvwtrmp", False),  # one class
        ("kxqzvwtr42", False),  # two classes
        ("KXQZ-vwtr-", True),  # upper, lower, special
        ("kxqz#vwtr42", True),  # lower, special, digits
        ("KXQZvwtr42", True),  # upper, lower, digits
        ("KXQZ#VWTR42", True),  # upper, special, digits
    ],
)
def test_three_of_four_classes(password, ok):
    message = check_password(password)
    assert (message is None) is ok, message
    if not ok:
        assert "trois types de caractères" in message


@pytest.mark.parametrize(
    "password",
    [
        "Azerty123!",
        "AZERTY123!",
        "123Azerty!",
        "!!Azerty!!2024",
        "Azértÿ123!",  # accents folded
        "MotDePasse2024!",
        "Mot-de-Passe-1",  # inner separators too
        "Soleil2024!",
        "Doudou-2024",
        "Chouchou#1",
        "Loulou1234!",
        "Marseille13!",
        "Bonjour2024?",
        "Jetaime<3<3",
        "Password123!",
        "Qwerty123!",
        "Dragon2024!",
        "Iloveyou2!",
    ],
)
def test_common_passwords_and_padded_variants_are_refused(password):
    assert check_password(password) == password_policy.COMMON_MESSAGE


def test_letters_around_a_common_word_are_not_padding():
    # Only digits and special characters around a list entry make it "common".
    assert check_password("Kxazerty7!Wq") is None


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("Jean#2024xyz", ["Jean", "DUPOND"]),
        ("xyz-dupond-7Q", ["Jean", "DUPOND"]),
        ("Zq9!Hélène", ["HELENE", "MARTIN"]),  # accents and case ignored both ways
        ("Zq9!HELENE", ["Hélène", "MARTIN"]),
        ("Zq9!Pierre", ["Jean-Pierre", "MARTIN"]),  # each part of a compound name counts
        ("Zq9!jeanpierre", ["Jean-Pierre", "MARTIN"]),
        ("Zq9!Diaye", ["Awa", "N'Diaye"]),
        ("Zq9!Ndiaye", ["Awa", "N'Diaye"]),
        ("Zq9!Awa-xx", ["Awa", "N'Diaye"]),  # three letters count
        ("Kq!123456x", ["Jean", "DUPOND", "123456"]),  # tenant number
        ("Kq!123456x", ["Jean", "DUPOND", "0123456"]),  # with or without leading zeros
        ("Kq!jean.dupond7", ["jean.dupond@exemple.com"]),  # e-mail local part
        ("Kq!7kestrel", ["kestrel@exemple.com"]),
    ],
)
def test_personal_words_are_refused(password, words):
    assert check_password(password, personal_words=words) == password_policy.PERSONAL_MESSAGE


def test_short_name_parts_do_not_count_on_their_own():
    # "Li" and "N" have fewer than 3 letters: a password containing them is not refused for it.
    assert check_password("Zq9!Lilas-Noir", personal_words=["Li", "N'Go"]) is None
    assert check_password("Zq9!Ngo-Tempete", personal_words=["Li", "N'Go"]) == password_policy.PERSONAL_MESSAGE


def test_long_multibyte_and_odd_input_never_raise():
    for password in ("é" * 1000, "🔑" * 10_000, "\ud800Ab1!xyzqw", "\x00" * 20, "Ab1!" + "\u0301" * 50, ""):
        result = check_password(password, personal_words=["\ud800", "", "é"])
        assert result is None or isinstance(result, str)
    assert check_password("A1!" + "é" * 997) == password_policy.LENGTH_MESSAGE


def test_messages_are_french():
    for message in (
        password_policy.LENGTH_MESSAGE,
        password_policy.CLASSES_MESSAGE,
        password_policy.COMMON_MESSAGE,
        password_policy.PERSONAL_MESSAGE,
    ):
        assert "mot de passe" in message.lower()


# -- security revision 4: NFKC, control characters, spaces -------------------------------------


def test_passwords_are_normalised_to_nfkc_before_the_policy_and_the_hash():
    import unicodedata

    from oph.accounts.passwords import hash_password, verify_password

    composed = "Café-Rouge-4821"  # é as one character
    decomposed = unicodedata.normalize("NFD", composed)  # e + combining accent
    assert composed != decomposed
    stored = hash_password(decomposed)
    assert verify_password(composed, stored)  # one password however the keyboard composes it
    fullwidth = "ＡＢＣ-ｄｅｆ-１２３４-ghi"  # full-width forms are their ASCII letters after NFKC
    assert verify_password("ABC-def-1234-ghi", hash_password(fullwidth))


def test_a_hash_made_before_normalisation_still_verifies():
    import base64
    import hashlib
    import unicodedata

    import bcrypt

    from oph.accounts.passwords import verify_password

    raw = unicodedata.normalize("NFD", "Crème-Brûlée-9173")
    legacy = bcrypt.hashpw(base64.b64encode(hashlib.sha256(raw.encode()).digest()), bcrypt.gensalt(4)).decode()
    assert verify_password(raw, legacy)


@pytest.mark.parametrize("control", ["\t", "\n", "\r", "\x00", "\x1b", "\x7f", "\u0085"])
def test_control_characters_are_refused(control):
    assert check_password(f"Correct{control}Cheval-42") is not None


def test_a_space_is_not_a_special_character():
    # upper, lower and a space: only two classes
    assert check_password("Cheval Rouge Tulipe") == password_policy.CLASSES_MESSAGE
    assert check_password("Cheval Rouge Tulipe 42") is None  # digits make the third class
