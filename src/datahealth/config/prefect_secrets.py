"""`${prefect.secret:NAME}` in sla_config: the value of the Prefect Secret block NAME, read at load time.

Prefect users keep credentials in Secret blocks rather than in the worker's environment. The block is
read when the project is loaded, that is inside the flow run on the worker (run time), never written
into prefect.yaml or the history store, and registered with the redactor like every other secret.
Prefect is imported only when a project uses such a reference, so `datahealth validate` stays fast.
"""

from __future__ import annotations

import importlib
import re

PREFECT_SECRET_REF = re.compile(r"\$\{prefect\.secret:(?P<secret>[^}]*)\}")
_BLOCK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class PrefectSecretError(LookupError):
    """The block cannot be read; the message says why, without any secret value."""


def read_prefect_secret(name: str) -> str:
    """The string value of the Secret block `name` on the Prefect server of the current settings."""
    if not _BLOCK_NAME.match(name):
        raise PrefectSecretError(
            f"{name!r} is not a Secret block name (lowercase letters, digits and dashes)"
        )
    system = importlib.import_module("prefect.blocks.system")
    try:
        value = system.Secret.load(name).get()
    except ValueError as exc:  # Prefect's "Unable to find block document named ..."
        raise PrefectSecretError(f"no Prefect Secret block named {name!r} ({exc})") from None
    except Exception as exc:  # the API is unreachable, or answered with an error
        raise PrefectSecretError(f"cannot read Prefect Secret block {name!r}: {type(exc).__name__}") from None
    if not isinstance(value, str):
        raise PrefectSecretError(f"Prefect Secret block {name!r} holds JSON, not a string")
    return value
