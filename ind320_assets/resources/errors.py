"""One clear line when a setting points at something that does not answer.

A resource that cannot reach its system raises `setting_failure(...)`: a
`dagster.Failure` whose description is one line that starts with the
environment variable and its value (a password masked), then says what went
wrong. The variable comes from `ENVIRONMENT` (`resources/environment.py`), never
repeated here. The original exception stays the Failure's `__cause__`, so the
event log (the UI's run view) keeps the whole chain; the console logger
(`ind320_assets/console_logger.py`) prints only the line unless asked.

A wrong setting does not fix itself, so the Failure skips the step's retry policy.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from dagster import Failure

from ind320_assets.resources.environment import ENVIRONMENT

# The metadata key that marks a Failure as one of ours (the console logger looks for it).
SETTING_KEY = "environment_variable"
MASK = "***"


def setting_name(resource: str, field: str) -> str:
    """The environment variable that sets `field` of resource `resource`."""
    return ENVIRONMENT[resource][field]


def setting_failure(
    resource: str, field: str, value: object, problem: str, *, secrets: tuple[str | None, ...] = ()
) -> Failure:
    """`<VARIABLE>=<value>: <problem>` as one line, with every secret in `secrets` masked."""
    name = setting_name(resource, field)
    line = " ".join(f"{name}={value}: {problem}".split())  # one line, whatever the cause printed
    line = scrub(line, secrets)
    return Failure(description=line, metadata={SETTING_KEY: name}, allow_retries=False)


def scrub(text: str, secrets: tuple[str | None, ...]) -> str:
    """`text` with every non-empty secret replaced by the mask."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def masked_uri(uri: str) -> str:
    """A connection string with its password replaced by the mask; the user name stays."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    userinfo, _, hosts = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hosts}"))


def os_error_text(text: str) -> str:
    """The `[Errno ...] reason` inside a long client message, else the message's first line."""
    found = re.search(r"\[Errno -?\d+\] [^'\"()\[\],]+", text)
    return found.group(0).strip() if found else text.strip().splitlines()[0] if text.strip() else text
