"""Device drivers, one per device API, and how to pick one for a host."""
from __future__ import annotations

import importlib

from endpoints.drivers.base import Driver
from endpoints.errors import Unsupported

# (vendor family, inventory transport) -> "module:Class". Imported on demand so that one
# driver's optional dependencies never break another.
DRIVERS: dict[tuple[str, str], str] = {
    ("cisco", "http"): "endpoints.drivers.cisco_http:CiscoHttpDriver",
    ("cisco", "https"): "endpoints.drivers.cisco_http:CiscoHttpDriver",
    ("cisco", "ssh"): "endpoints.drivers.cisco_ssh:CiscoSshDriver",
    ("polycom-group", "rest"): "endpoints.drivers.polycom_rest:GroupRestDriver",
    ("polycom-group", "ssh"): "endpoints.drivers.polycom_line:PolycomLineDriver",
    ("polycom-group", "telnet"): "endpoints.drivers.polycom_line:PolycomLineDriver",
    ("polycom-hdx", "telnet"): "endpoints.drivers.polycom_line:PolycomLineDriver",
    ("polycom-hdx", "http"): "endpoints.drivers.hdx_http:HdxHttpDriver",
}


def family_of(model: str) -> str:
    """The vendor family of a canonical model name: cisco, polycom-group, polycom-hdx."""
    if model.startswith("SX"):
        return "cisco"
    if model.startswith("Group"):
        return "polycom-group"
    if model.startswith("HDX"):
        return "polycom-hdx"
    raise Unsupported(f"unsupported model {model!r}")


def driver_class(family: str, transport: str) -> type[Driver]:
    try:
        target = DRIVERS[(family, transport)]
    except KeyError:
        offered = sorted(t for f, t in DRIVERS if f == family)
        raise Unsupported(f"{family} does not offer transport {transport!r} (offers {', '.join(offered)})") from None
    module, _, name = target.partition(":")
    cls: type[Driver] = getattr(importlib.import_module(module), name)
    return cls
