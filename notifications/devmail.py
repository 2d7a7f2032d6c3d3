"""Reading the e-mails Django's file backend wrote (development only)."""

import email
from dataclasses import dataclass
from email import policy
from pathlib import Path

SEPARATOR = b"-" * 79
MAX_FILES = 200


@dataclass
class DevMail:
    file: str
    subject: str
    to: str
    date: str
    text: str
    html: str


def read_mails(folder) -> list[DevMail]:
    """The newest mails first, from the newest ``MAX_FILES`` files of the folder."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    mails = []
    for path in files[:MAX_FILES]:
        chunks = [c.strip() for c in path.read_bytes().split(SEPARATOR) if c.strip()]
        for chunk in reversed(chunks):
            message = email.message_from_bytes(chunk, policy=policy.default)
            text = message.get_body(preferencelist=("plain",))
            html = message.get_body(preferencelist=("html",))
            mails.append(
                DevMail(
                    file=path.name,
                    subject=str(message.get("Subject", "")),
                    to=str(message.get("To", "")),
                    date=str(message.get("Date", "")),
                    text=text.get_content() if text is not None else "",
                    html=html.get_content() if html is not None else "",
                )
            )
    return mails
