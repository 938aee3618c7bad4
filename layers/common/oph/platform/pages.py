"""The small French HTML pages opened from e-mail links (the fallback when the app is absent).

No external asset, no JavaScript: plain forms. The one stylesheet is inline and allowed by
its hash in a strict Content-Security-Policy. ``Referrer-Policy: no-referrer`` because the
URL holds a token.

Accessibility (checked in Chromium by axe-core, ``tests/e2e/test_accessibility.py``): French
``lang``, landmarks (header, main, footer), a label on every input, tap targets (buttons,
inputs, links styled as buttons) at least 44 px high (2.75 rem), contrasts of at least 4.5:1, a
visible focus; an error is announced to screen readers as the page opens (``role="alert"``)
and tied to its field (``aria-invalid="true"``, ``aria-describedby`` naming the message) — see
:func:`input_field` and :func:`error_summary`. Every page ends with the office's phone and
opening hours (contract section 9), so "contactez l'Office" is never a dead end.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from aws_lambda_powertools.event_handler import Response

from oph.platform import errors
from oph.platform.office import get_office

CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;"
    "background:#f4f6f8;color:#1b1b1b;line-height:1.5}"
    "header{background:#004b87;color:#fff;padding:1rem 1.25rem}"
    "header p{margin:0;font-weight:700;letter-spacing:.02em}"
    "main{max-width:34rem;margin:1.5rem auto;background:#fff;padding:1.5rem;border-radius:.5rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}"
    "footer{max-width:34rem;margin:0 auto 1.5rem;padding:0 1.5rem;font-size:.95rem;color:#333}"
    "footer p{margin:.25rem 0}"
    "a{color:#004b87}"
    "h1{font-size:1.4rem;margin-top:0}"
    "label{display:block;font-weight:600;margin-top:1rem}"
    "input[type=password],input[type=text],input[type=email]{width:100%;box-sizing:border-box;"
    "min-height:2.75rem;padding:.6rem;font-size:1rem;border:1px solid #767676;border-radius:.25rem}"
    "input[aria-invalid=true]{border:2px solid #b00020}"
    "button,a.button{display:inline-flex;align-items:center;justify-content:center;box-sizing:border-box;"
    "min-height:2.75rem;margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;line-height:1.25;border:0;"
    "border-radius:.25rem;background:#004b87;color:#fff;cursor:pointer;text-decoration:none}"
    "button.secondary{background:#5a5a5a}"
    ":focus-visible{outline:3px solid #1b1b1b;outline-offset:2px}"
    ".ok{color:#0a6b2d}.error{color:#b00020}.hint{color:#555;font-size:.95rem}"
    ".error-summary{color:#b00020;border-left:4px solid #b00020;padding:.25rem 0 .25rem 1rem;margin:1rem 0}"
    ".error-summary p{margin:0;font-weight:600}ul.errors{margin:.25rem 0 0;padding-left:1.25rem}"
    ".field-error{color:#b00020;font-weight:600;margin:.25rem 0}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()


def security_headers(form_action: str = "'self'") -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self'; "
            f"form-action {form_action}; base-uri 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
    }


def input_field(
    name: str,
    label: str,
    *,
    kind: str = "text",
    attributes: str = "",
    hint_id: str | None = None,
    error: str | None = None,
    announce: bool = False,
) -> str:
    """A labelled input (``id`` = ``name``). ``hint_id`` names the help text that describes it;
    an ``error`` is shown under the label and tied to the input (``aria-describedby``,
    ``aria-invalid="true"``); ``announce`` makes that error a live alert (when no
    :func:`error_summary` announces it already). ``attributes`` is trusted markup."""
    error_id = f"{name}-error"
    described = " ".join(part for part in (hint_id, error_id if error else None) if part)
    message = ""
    if error:
        role = ' role="alert"' if announce else ""
        message = f'<p class="field-error" id="{escape(error_id)}"{role}>{escape(error)}</p>'
    return (
        f'<label for="{escape(name)}">{escape(label)}</label>{message}'
        f'<input type="{escape(kind)}" id="{escape(name)}" name="{escape(name)}"'
        + (f' aria-describedby="{escape(described)}"' if described else "")
        + (' aria-invalid="true"' if error else "")
        + (f" {attributes}" if attributes else "")
        + ">"
    )


def error_summary(heading: str, messages: list[str]) -> str:
    """The errors of a form, above it, announced as the page opens (``role="alert"``)."""
    items = "".join(f"<li>{escape(message)}</li>" for message in messages)
    return f'<div class="error-summary" role="alert"><p>{escape(heading)}</p><ul class="errors">{items}</ul></div>'


def footer_html() -> str:
    """How to reach the office, on every page (read from the stack's configuration)."""
    office = get_office()
    dial = "".join(ch for ch in office.phone if ch.isdigit() or ch == "+")
    hours = "".join(f"<p>Accueil : {escape(line)}</p>" for line in office.opening_hours)
    return (
        f"<footer><p>Besoin d'aide ? {escape(office.name)}, "
        f'téléphone : <a href="tel:{escape(dial)}">{escape(office.phone)}</a>, '
        f"e-mail : {escape(office.email)}</p>{hours}</footer>"
    )


def page(title: str, body_html: str, *, status: int = 200, form_action: str = "'self'") -> Response:
    """A complete page; ``body_html`` is trusted markup: escape every value put into it."""
    html = (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} — Mon espace locataire</title><style>{CSS}</style></head>"
        "<body><header><p>Office Public de l'Habitat d'Aubervilliers — Mon espace locataire</p></header>"
        f"<main><h1>{escape(title)}</h1>{body_html}</main>{footer_html()}</body></html>"
    )
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=html,
        headers=security_headers(form_action),
    )


def error_page(exc: errors.ApiError) -> Response:
    if exc.status >= 500:
        title = "Service indisponible"
    elif exc.status == 404:
        title = "Page introuvable"
    else:
        title = "Demande impossible"
    response = page(title, f'<p class="error" role="alert">{escape(exc.title)}</p>', status=exc.status)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response
