"""Parsing of the office's CSV exports (contract section 5, "Admin import"): pure, no AWS.

Files are UTF-8 (with or without BOM), ``;``-separated, with a header row; amounts are euros
with ``,`` or ``.`` decimals (converted to integer cents from the digits, never through a
float); dates are ``DD/MM/YYYY`` or ``YYYY-MM-DD``. A row that cannot be used is returned with
its line number (the header is line 1) and a French reason; it never stops the other rows.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from oph.tenancy.model import normalize_tenant_number

TENANTS = "tenants"
NOTICES = "notices"
MOVEMENTS = "movements"
MANDATES = "mandates"
KINDS = (TENANTS, NOTICES, MOVEMENTS, MANDATES)

TENANT_COLUMNS = (
    "tenant_number",
    "last_name",
    "first_name",
    "birth_date",
    "contract_number",
    "third_party_number",
    "address_line1",
    "postal_code",
    "city",
    "balance",
    "balance_date",
)
NOTICE_COLUMNS = (
    "tenant_number",
    "period",
    "issue_date",
    "due_date",
    "label",
    "category",
    "amount",
    "balance",
    "balance_date",
)
MOVEMENT_COLUMNS = ("tenant_number", "date", "label", "amount", "reference")
MANDATE_COLUMNS = ("mandate_reference", "status")
COLUMNS = {TENANTS: TENANT_COLUMNS, NOTICES: NOTICE_COLUMNS, MOVEMENTS: MOVEMENT_COLUMNS, MANDATES: MANDATE_COLUMNS}
REFERENCE_MAX = 100  # characters of a movement's reference (it is part of the item's key)
CATEGORIES = ("rent", "charges", "aid", "other")
MANDATE_STATUSES = ("active", "revoked", "rejected")  # the office's answers (contract section 8)

_AMOUNT = re.compile(r"^([+-]?)(\d+)(?:[.,](\d{1,2}))?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_PERIOD_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")
_PERIOD_FR = re.compile(r"^(\d{1,2})/(\d{4})$")
_TENANT_NUMBER = re.compile(r"^[0-9A-Z-]{1,20}$")
_SPACES = ("\u00a0", "\u202f", "\u2009", " ")
DATE_FORMATS = "JJ/MM/AAAA ou AAAA-MM-JJ"


class RowRejected(Exception):
    """A row (or a value of it) that cannot be imported; ``reason`` is French."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FileRejected(Exception):
    """The whole file is unusable (encoding, header): the report says "failed"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_amount(text: str, what: str = "Montant") -> int:
    """``"1 234,56"``, ``"1234.5"``, ``"-12,30 €"`` -> cents, exactly."""
    compact = text.strip().removesuffix("€")
    for space in _SPACES:
        compact = compact.replace(space, "")
    found = _AMOUNT.match(compact)
    if not found:
        raise RowRejected(f"{what} invalide : « {text.strip()} » (attendu par exemple 1234,56 ou -12.30).")
    sign, whole, fraction = found.groups()
    cents = int(whole) * 100 + int((fraction or "0").ljust(2, "0"))
    return -cents if sign == "-" else cents


def parse_date(text: str, what: str = "Date", *, echo: bool = True) -> str:
    """``DD/MM/YYYY`` or ``YYYY-MM-DD`` -> ``YYYY-MM-DD`` (a real calendar date)."""
    value = text.strip()
    iso, fr = _ISO_DATE.match(value), _FR_DATE.match(value)
    try:
        if iso:
            parsed = date(int(iso[1]), int(iso[2]), int(iso[3]))
        elif fr:
            parsed = date(int(fr[3]), int(fr[2]), int(fr[1]))
        else:
            raise ValueError(value)
    except ValueError:
        shown = f" : « {value} »" if echo and value else ""
        raise RowRejected(f"{what} invalide{shown} (format attendu {DATE_FORMATS}).") from None
    if parsed.year < 1900:
        raise RowRejected(f"{what} invalide (année antérieure à 1900).")
    return parsed.isoformat()


def parse_period(text: str) -> str:
    """``YYYY-MM`` (or ``MM/YYYY``) -> ``YYYY-MM``."""
    value = text.strip()
    iso, fr = _PERIOD_ISO.match(value), _PERIOD_FR.match(value)
    year, month = (int(iso[1]), int(iso[2])) if iso else (int(fr[2]), int(fr[1])) if fr else (0, 0)
    if not 1 <= month <= 12 or year < 1900:
        raise RowRejected(f"Période invalide : « {value} » (format attendu AAAA-MM).")
    return f"{year:04d}-{month:02d}"


def parse_tenant_number(text: str) -> str:
    value = normalize_tenant_number(text)
    if not value:
        raise RowRejected("Numéro d'intitulé manquant.")
    if not _TENANT_NUMBER.match(value):
        raise RowRejected(f"Numéro d'intitulé invalide : « {text.strip()} ».")
    return value


def _required(values: dict[str, str], column: str, what: str, *, feminine: bool = False) -> str:
    value = values.get(column, "").strip()
    if not value:
        raise RowRejected(f"{what} manquant{'e' if feminine else ''}.")
    return value


def _balance(values: dict[str, str]) -> tuple[int | None, str | None]:
    raw_amount, raw_date = values.get("balance", "").strip(), values.get("balance_date", "").strip()
    if not raw_amount and not raw_date:
        return None, None
    if not raw_amount or not raw_date:
        raise RowRejected("Le solde et sa date (balance, balance_date) vont ensemble : l'un des deux manque.")
    return parse_amount(raw_amount, "Solde"), parse_date(raw_date, "Date du solde")


@dataclass(frozen=True)
class TenantRow:
    line: int
    tenant_number: str
    last_name: str
    first_name: str
    birth_date: str
    contract_number: str
    third_party_number: str
    address_line1: str
    postal_code: str
    city: str
    balance_cents: int | None
    balance_date: str | None

    def tenancy_fields(self) -> tuple[object, ...]:
        return (
            self.contract_number,
            self.third_party_number,
            self.address_line1,
            self.postal_code,
            self.city,
            self.balance_cents,
            self.balance_date,
        )


@dataclass(frozen=True)
class NoticeRow:
    line: int
    tenant_number: str
    period: str
    issue_date: str
    due_date: str
    label: str
    category: str
    amount_cents: int
    balance_cents: int | None
    balance_date: str | None

    @property
    def notice_key(self) -> tuple[str, str]:
        return (self.tenant_number, self.period)


@dataclass(frozen=True)
class MovementRow:
    line: int
    tenant_number: str
    date: str
    label: str
    amount_cents: int
    reference: str

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the movement: a reference is unique within a tenancy (section 8)."""
        return (self.tenant_number, self.reference)

    @property
    def values(self) -> tuple[str, str, int]:
        return (self.date, self.label, self.amount_cents)


def tenant_row(line: int, values: dict[str, str], today: str) -> TenantRow:
    number = parse_tenant_number(values.get("tenant_number", ""))
    last_name = _required(values, "last_name", "Nom (last_name)")
    first_name = _required(values, "first_name", "Prénom (first_name)")
    if not values.get("birth_date", "").strip():
        raise RowRejected("Date de naissance (birth_date) manquante.")
    birth_date = parse_date(values["birth_date"], "Date de naissance", echo=False)
    if birth_date > today:
        raise RowRejected("Date de naissance invalide (dans le futur).")
    postal_code = values.get("postal_code", "").strip()
    if postal_code and not re.fullmatch(r"\d{5}", postal_code):
        raise RowRejected(f"Code postal invalide : « {postal_code} » (5 chiffres attendus).")
    balance_cents, balance_date = _balance(values)
    return TenantRow(
        line=line,
        tenant_number=number,
        last_name=last_name,
        first_name=first_name,
        birth_date=birth_date,
        contract_number=values.get("contract_number", "").strip(),
        third_party_number=values.get("third_party_number", "").strip(),
        address_line1=values.get("address_line1", "").strip(),
        postal_code=postal_code,
        city=values.get("city", "").strip(),
        balance_cents=balance_cents,
        balance_date=balance_date,
    )


def notice_row(line: int, values: dict[str, str]) -> NoticeRow:
    number = parse_tenant_number(values.get("tenant_number", ""))
    period = parse_period(_required(values, "period", "Période (period)", feminine=True))
    issue_date = parse_date(
        _required(values, "issue_date", "Date d'émission (issue_date)", feminine=True), "Date d'émission"
    )
    due_date = parse_date(
        _required(values, "due_date", "Date limite (due_date)", feminine=True), "Date limite de paiement"
    )
    label = _required(values, "label", "Libellé (label)")
    category = values.get("category", "").strip().lower()
    if category not in CATEGORIES:
        raise RowRejected(
            f"Catégorie invalide : « {values.get('category', '').strip()} » (attendu rent, charges, aid ou other)."
        )
    amount = parse_amount(_required(values, "amount", "Montant (amount)"))
    if category == "aid" and amount > 0:
        raise RowRejected("Une ligne d'aide (aid) doit avoir un montant négatif.")
    if due_date < issue_date:
        raise RowRejected("La date limite de paiement précède la date d'émission.")
    balance_cents, balance_date = _balance(values)
    return NoticeRow(line, number, period, issue_date, due_date, label, category, amount, balance_cents, balance_date)


def movement_row(line: int, values: dict[str, str]) -> MovementRow:
    """A movements file's row (contract section 8): the label is kept as the office wrote it."""
    number = parse_tenant_number(values.get("tenant_number", ""))
    day = parse_date(_required(values, "date", "Date (date)", feminine=True))
    label = _required(values, "label", "Libellé (label)")
    amount = parse_amount(_required(values, "amount", "Montant (amount)"))
    reference = values.get("reference", "").strip()
    if not reference:
        raise RowRejected("Référence (reference) manquante : chaque mouvement doit avoir la sienne.")
    if len(reference) > REFERENCE_MAX:
        raise RowRejected(f"Référence trop longue ({REFERENCE_MAX} caractères au plus).")
    return MovementRow(line, number, day, label, amount, reference)


@dataclass(frozen=True)
class MandateRow:
    """A mandates file's row (contract section 8): the office's answer about one mandate."""

    line: int
    reference: str  # the RUM, as exported ("OPH-123456-0001")
    status: str  # one of MANDATE_STATUSES


def mandate_row(line: int, values: dict[str, str]) -> MandateRow:
    """The reference as written (whether it is a known mandate is the import's question) and
    the status in lower case."""
    reference = _required(values, "mandate_reference", "Référence du mandat (mandate_reference)", feminine=True)
    if len(reference) > REFERENCE_MAX:
        raise RowRejected(f"Référence du mandat trop longue ({REFERENCE_MAX} caractères au plus).")
    status = values.get("status", "").strip().lower()
    if status not in MANDATE_STATUSES:
        shown = values.get("status", "").strip()
        raise RowRejected(
            f"Statut invalide : « {shown} » (attendu active, revoked ou rejected)."
            if shown
            else "Statut (status) manquant (attendu active, revoked ou rejected)."
        )
    return MandateRow(line, reference, status)


@dataclass
class Parsed:
    """Rows of a file: ``rows`` are (line, values by column) for the rows to validate."""

    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def decode(data: bytes) -> str:
    if not data.strip():
        raise FileRejected("Le fichier est vide.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRejected(
            f"Le fichier n'est pas encodé en UTF-8 (premier caractère invalide ligne {line}) : "
            "enregistrez-le en « CSV UTF-8 » et déposez-le à nouveau."
        ) from None


def split_rows(data: bytes, kind: str) -> Parsed:
    """Decode, check the header, and cut the file into rows keyed by column name."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    expected = COLUMNS[kind]
    header: list[str] | None = None
    parsed = Parsed()
    try:
        for raw in reader:
            line = reader.line_num
            if header is None:
                if not any(cell.strip() for cell in raw):
                    continue
                header = [cell.strip().lstrip("\ufeff").lower() for cell in raw]
                missing = [c for c in expected if c not in header]
                if missing:
                    hint = " Le séparateur attendu est le point-virgule (;)." if len(raw) == 1 else ""
                    raise FileRejected(
                        f"Colonnes manquantes dans l'en-tête (ligne {line}) : {', '.join(missing)}.{hint}"
                    )
                continue
            if not any(cell.strip() for cell in raw):
                continue  # an empty line is not a row
            if len(raw) != len(header):
                parsed.rejected.append(
                    (line, f"Nombre de champs incorrect : {len(header)} attendus, {len(raw)} trouvés.")
                )
                continue
            parsed.rows.append((line, dict(zip(header, raw, strict=True))))
    except csv.Error as exc:
        raise FileRejected(f"Fichier CSV illisible ligne {reader.line_num} : guillemets non fermés.") from exc
    if header is None:
        raise FileRejected("Le fichier est vide.")
    return parsed
