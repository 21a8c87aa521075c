"""Device drivers, one per device API, and how to pick one for a room (the support matrix)."""
from __future__ import annotations

import importlib

from endpoints import support
from endpoints.drivers.base import Driver
from endpoints.errors import Unsupported


def driver_class(family: str, transport: str) -> type[Driver]:
    """The driver of a family's transport, as the support matrix names it (imported on demand,
    so that one driver's dependencies never break another)."""
    api = support.FAMILIES[family].api(transport) if family in support.FAMILIES else None
    if api is None:
        offered = ", ".join(support.FAMILIES[family].transports) if family in support.FAMILIES else "nothing"
        raise Unsupported(f"{family} does not offer transport {transport!r} (offers {offered})")
    module, _, name = api.driver.partition(":")
    cls: type[Driver] = getattr(importlib.import_module(module), name)
    return cls


def family_of(model: str) -> str:
    """The vendor family of a canonical model: cisco, polycom-group, polycom-hdx."""
    try:
        return support.family_of(model).name
    except KeyError:
        raise Unsupported(f"unsupported model {model!r}") from None
