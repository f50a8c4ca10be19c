"""The text and HTML bodies of every mail Karpov sends (plain string templates: the values
are escaped for HTML; nothing here is user-controlled except the address)."""

from __future__ import annotations

import html

from domain.mail.ports import EmailMessage


def _html(title: str, paragraphs: list[str], highlight: str | None = None) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if highlight:
        body += (
            '<p style="font-size:24px;font-weight:bold;letter-spacing:4px">'
            f"{html.escape(highlight)}</p>"
        )
    return (
        f"<!doctype html><html><body><h2>{html.escape(title)}</h2>{body}"
        '<p style="color:#888">This is an automated message; please do not reply.</p>'
        "</body></html>"
    )


def verification_code(app: str, to: str, code: str, ttl_minutes: int) -> EmailMessage:
    title = f"{app} verification code"
    lines = [
        "You are creating a new account. Your verification code is:",
        f"It expires in {ttl_minutes} minutes. If you did not ask for it, ignore this mail.",
    ]
    text = f"{title}\n\n{lines[0]}\n\n    {code}\n\n{lines[1]}\n"
    return EmailMessage(to=to, subject=title, text=text, html=_html(title, lines, code))


def _link_mail(app: str, to: str, title: str, intro: str, link: str, ttl: str) -> EmailMessage:
    outro = f"The link expires in {ttl}. If you did not ask for it, ignore this mail."
    text = f"{title}\n\n{intro}\n\n{link}\n\n{outro}\n"
    body = (
        f"<!doctype html><html><body><h2>{html.escape(title)}</h2>"
        f"<p>{html.escape(intro)}</p>"
        f'<p><a href="{html.escape(link, quote=True)}">{html.escape(link)}</a></p>'
        f"<p>{html.escape(outro)}</p></body></html>"
    )
    return EmailMessage(to=to, subject=title, text=text, html=body)


def activation_link(app: str, to: str, link: str, ttl_hours: int) -> EmailMessage:
    return _link_mail(
        app, to, f"Activate your {app} account",
        "Open this link to activate your account:", link, f"{ttl_hours} hours",
    )  # fmt: skip


def password_reset_link(app: str, to: str, link: str, ttl_minutes: int) -> EmailMessage:
    return _link_mail(
        app, to, f"Reset your {app} password",
        "Open this link to choose a new password:", link, f"{ttl_minutes} minutes",
    )  # fmt: skip
