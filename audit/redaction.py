"""The one redaction step for text that came from the API: no credential survives it.

PagerDuty (or a proxy in front of it) may echo what it was sent: a 400 whose message
repeats the ``Authorization`` header, a 403 reason quoting the key. Such text is printed
on stderr, stored in the manifest and the journal, and shown by ``snapshot info``, so
every string taken from an API answer or a transport error passes through
``Redactor.redact`` where it enters pd-audit (``audit.client``), before anything can
print, log or store it. It removes the token itself (in the forms a server could echo it
as: raw, URL-quoted, JSON-escaped) and anything shaped like a credential
(``Token token=...``, ``Bearer ...``, ``Authorization: ...``), whatever key it holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
# A credential's shape, whoever's it is: the header value PagerDuty's REST API takes
# (``Token token=KEY``), OAuth's (``Bearer KEY``) and a header line quoted whole.
CREDENTIAL_SHAPES = re.compile(
    r"(?i)((?:authorization\s*[:=]\s*(?:token\s+token\s*=\s*|bearer\s+)?)|token\s+token\s*=\s*|bearer\s+"
    r"|\btoken\s*=\s*)[\"']?[^\s\"',;&}\]]+"
)


class Redactor:
    """Removes the given secrets and any credential-shaped text from strings."""

    def __init__(self, secrets: Iterable[str] = ()):
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms |= {secret, quote(secret, safe=""), quote_plus(secret), secret.replace("/", "\\/")}
        # Longest first: a form holding another is removed whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def redact(self, text: object) -> str:
        redacted = str(text)
        for form in self._forms:
            redacted = redacted.replace(form, REDACTED)
        return CREDENTIAL_SHAPES.sub(lambda match: match.group(1) + REDACTED, redacted)
