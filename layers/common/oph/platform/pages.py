"""The small French HTML pages opened from e-mail links (the fallback when the app is absent).

No external asset, no JavaScript: plain forms. The one stylesheet is inline and allowed by
its hash in a strict Content-Security-Policy. ``Referrer-Policy: no-referrer`` because the
URL holds a token.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from aws_lambda_powertools.event_handler import Response

from oph.platform import errors

CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;"
    "background:#f4f6f8;color:#1b1b1b;line-height:1.5}"
    "header{background:#004b87;color:#fff;padding:1rem 1.25rem}"
    "header p{margin:0;font-weight:700;letter-spacing:.02em}"
    "main{max-width:34rem;margin:1.5rem auto;background:#fff;padding:1.5rem;border-radius:.5rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}"
    "h1{font-size:1.4rem;margin-top:0}"
    "label{display:block;font-weight:600;margin-top:1rem}"
    "input[type=password],input[type=text],input[type=email]{width:100%;box-sizing:border-box;"
    "padding:.6rem;font-size:1rem;border:1px solid #767676;border-radius:.25rem}"
    "button{margin-top:1.25rem;padding:.7rem 1.2rem;font-size:1rem;border:0;border-radius:.25rem;"
    "background:#004b87;color:#fff;cursor:pointer}"
    "button.secondary{background:#5a5a5a}"
    ".ok{color:#0a6b2d}.error{color:#b00020}.hint{color:#555;font-size:.95rem}"
    "ul.errors{color:#b00020}"
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


def page(title: str, body_html: str, *, status: int = 200, form_action: str = "'self'") -> Response:
    """A complete page; ``body_html`` is trusted markup: escape every value put into it."""
    html = (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} — Mon espace locataire</title><style>{CSS}</style></head>"
        "<body><header><p>Office Public de l'Habitat d'Aubervilliers — Mon espace locataire</p></header>"
        f"<main><h1>{escape(title)}</h1>{body_html}</main></body></html>"
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
    response = page(title, f'<p class="error">{escape(exc.title)}</p>', status=exc.status)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response
