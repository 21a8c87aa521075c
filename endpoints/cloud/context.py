"""One run's service settings from the selected rooms' `cloud.*` keys.

The keys usually sit once in `all.vars`, but any group or host may set them: the rooms of
one run must agree on the service (API, App ID and key, corp, user, trust), or the run
stops before anything is sent with an InputError naming the key and both places.
Per-room keys (`terminal_name`, `notify_*`, `dept_code`) may differ.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from endpoints.cloud.auth import AppCredentials
from endpoints.cloud.client import DEFAULT_API, CloudClient, CloudSettings, RetryPolicy
from endpoints.errors import InputError
from endpoints.host import Host
from endpoints.secrets import Secret, SecretError

SHARED_KEYS = ("api", "app_id", "app_key", "corp_id", "user_id", "tls_verify")


def _value(host: Host, key: str) -> Any:
    if key == "tls_verify":
        return host.cloud.tls
    if key == "app_key":
        secret = host.cloud.app_key
        return None if secret is None else _revealed(host, secret)
    return getattr(host.cloud, key)


def _revealed(host: Host, secret: Secret) -> str:
    try:
        return secret.reveal()
    except SecretError as exc:
        raise InputError(str(exc), file=host.origin("cloud.app_key"), key="cloud.app_key") from None


def cloud_settings(hosts: Sequence[Host]) -> CloudSettings:
    """The service of these rooms; InputError (file, line, key) when missing or not agreed."""
    if not hosts:
        raise InputError("no rooms selected")
    first = hosts[0]
    for key in SHARED_KEYS:
        mine = _value(first, key)
        for other in hosts[1:]:
            if _value(other, key) != mine:  # values compared, never printed (the key is a secret)
                raise InputError(
                    f"rooms {first.name} ({first.origin('cloud.' + key)}) and {other.name} differ in "
                    f"cloud.{key}: one run talks to one meeting service; run them separately (--limit)",
                    file=other.origin("cloud." + key), key=f"cloud.{key}")
    cloud = first.cloud
    for key, value in (("app_id", cloud.app_id), ("app_key", cloud.app_key)):
        if not value:
            raise InputError(f"set cloud.{key} (App ID and App Key come from the meeting admin console: "
                             "Application management)", file=first.origin("cloud"), key=f"cloud.{key}")
    assert cloud.app_id and cloud.app_key
    api = (cloud.api or DEFAULT_API).rstrip("/")
    if not api.lower().startswith("https://"):
        raise InputError(f"the service API is HTTPS only (got {api!r})", file=first.origin("cloud.api"),
                         key="cloud.api")
    credentials = AppCredentials(app_id=cloud.app_id, app_key=cloud.app_key, user_id=cloud.user_id or "",
                                 corp_id=cloud.corp_id)
    return CloudSettings(api=api, credentials=credentials, tls=cloud.tls, origin=first.origin("cloud"))


def client_for(hosts: Sequence[Host], *, timeout: float = 15.0, retry: RetryPolicy | None = None) -> CloudClient:
    """A client for the rooms' service (no request sent yet); InputError as `cloud_settings`."""
    return CloudClient(cloud_settings(hosts), timeout=timeout, retry=retry)
