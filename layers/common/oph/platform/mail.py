"""Outgoing e-mail: one French layout (HTML + text) and the SES (SESv2) adapter.

Messages are sent as raw MIME through SESv2 ``SendEmail`` so attachments (PDF receipts)
use the same path as everything else. In local development the same call lands in the
embedded moto server, whose messages ``GET /_dev/outbox`` lists.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from html import escape
from typing import Any, Protocol

from oph.platform.errors import ServiceUnavailable
from oph.platform.office import get_office
from oph.platform.provider import Provider


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Email:
    to: list[str]
    subject: str
    text: str
    html: str
    sender: str | None = None  # defaults to MAIL_FROM
    attachments: list[Attachment] = field(default_factory=list)


class Mailer(Protocol):
    def send(self, email: Email) -> None: ...


class MailThrottled(ServiceUnavailable):
    """SES asked to slow down (sending rate or daily quota): try later, the e-mail is fine."""


def email_to_dict(email: Email) -> dict[str, Any]:
    """A JSON-ready copy of the e-mail (the mail queue's message body)."""
    return {
        "to": list(email.to),
        "subject": email.subject,
        "text": email.text,
        "html": email.html,
        "sender": email.sender,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "data": base64.b64encode(a.data).decode()}
            for a in email.attachments
        ],
    }


def email_from_dict(values: dict[str, Any]) -> Email:
    return Email(
        to=[str(a) for a in values["to"]],
        subject=str(values["subject"]),
        text=str(values["text"]),
        html=str(values["html"]),
        sender=values.get("sender"),
        attachments=[
            Attachment(str(a["filename"]), str(a["content_type"]), base64.b64decode(a["data"]))
            for a in values.get("attachments") or []
        ],
    )


SIGNATURE = "L'équipe de l'Office Public de l'Habitat d'Aubervilliers"
AUTOMATIC = "Cet e-mail a été envoyé automatiquement, merci de ne pas y répondre."
_BUTTON = (
    "display:inline-block;padding:12px 20px;background:#004b87;color:#ffffff;text-decoration:none;border-radius:4px"
)


def greeting(first_name: str | None = "", last_name: str | None = "") -> str:
    """The one greeting of every e-mail: "Bonjour Jean DUPOND," (first name, then last name, as
    the office's records write them), or "Bonjour," when the name is unknown or must not be
    shown (a new address that may not be the holder's)."""
    name = " ".join(part.strip() for part in (first_name or "", last_name or "") if part and part.strip())
    return f"Bonjour {name}," if name else "Bonjour,"


def contacts_html() -> str:
    """The office's contacts (:meth:`Office.contact_lines`) as the HTML closing block."""
    lines = [escape(line) for line in get_office().contact_lines()]
    return (
        '<div style="margin-top:24px;padding-top:12px;border-top:1px solid #d0d7de;font-size:14px;color:#333">'
        f'<p style="margin:0 0 4px">Nous contacter :</p><p style="margin:0">{"<br>".join(lines)}</p></div>'
    )


def compose(
    subject: str,
    paragraphs: list[str],
    *,
    to: str | list[str],
    link: tuple[str, str] | None = None,
    after_link: list[str] | None = None,
    sender: str | None = None,
    attachments: list[Attachment] | None = None,
) -> Email:
    """Build both parts from plain paragraphs and an optional (label, url) button.

    The first paragraph is the greeting (:func:`greeting`). Every e-mail ends the same way,
    here and nowhere else: the signature, then the office's contacts (contract section 9,
    :meth:`oph.platform.office.Office.contact_lines`, read at sending time), then the notice
    that the message was sent automatically.
    """
    after = after_link or []
    text_parts = [*paragraphs]
    html_parts = [f"<p>{escape(p)}</p>" for p in paragraphs]
    if link:
        label, url = link
        text_parts.append(f"{label} : {url}")
        html_parts.append(
            f'<p><a href="{escape(url)}" style="{_BUTTON}">{escape(label)}</a></p>'
            f'<p style="font-size:13px;color:#555">Si le bouton ne fonctionne pas, copiez ce lien dans votre '
            f"navigateur : <br>{escape(url)}</p>"
        )
    contacts = "\n".join(["Nous contacter :", *get_office().contact_lines()])
    text_parts += [*after, SIGNATURE, contacts, AUTOMATIC]
    html_parts += [f"<p>{escape(p)}</p>" for p in after]
    html = (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head>"
        '<body style="font-family:Arial,sans-serif;color:#1b1b1b;line-height:1.5">'
        '<div style="max-width:560px;margin:auto">'
        '<p style="background:#004b87;color:#fff;padding:12px 16px;font-weight:bold">'
        "Office Public de l'Habitat d'Aubervilliers</p>" + "".join(html_parts) + f"<p>{escape(SIGNATURE)}</p>"
        f"{contacts_html()}"
        f'<p style="font-size:12px;color:#595959">{escape(AUTOMATIC)}</p>'
        "</div></body></html>"
    )
    return Email(
        to=[to] if isinstance(to, str) else list(to),
        subject=subject,
        text="\n\n".join(text_parts),
        html=html,
        sender=sender,
        attachments=list(attachments or []),
    )


def to_mime(email: Email, sender: str) -> bytes:
    message = EmailMessage()
    name, address = parseaddr(sender)
    message["From"] = formataddr((name, address)) if name else address
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain=address.split("@")[-1] or None)
    message.set_content(email.text, charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    for attachment in email.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message.as_bytes()


mailer: Provider[Mailer] = Provider.lazy("oph.platform.aws.ses", "SesMailer")


def get_mailer() -> Mailer:
    return mailer()


def set_mailer(replacement: Mailer | None) -> None:
    """Tests inject a fake (e.g. one that fails) here; ``None`` restores SES."""
    mailer.set(replacement)
