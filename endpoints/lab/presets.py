"""Starting states of simulated rooms, written in each device's own setting paths.

`registered` rooms get exactly what the built-in profile would write (so a first apply
leaves them alone); `stale` rooms carry a typical old set-up: UDP, another proxy, an old
account; `factory` rooms keep the device defaults.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from endpoints.desired import desired_state
from endpoints.drivers.base import Identity
from endpoints.host import Host, SipVars
from endpoints.profiles import Profile, ProfileSet
from endpoints.secrets import Secret

if TYPE_CHECKING:
    from endpoints.lab.fleet import RoomSpec

VENDOR = {"SX": "cisco", "Group": "polycom-group", "HDX": "polycom-hdx"}
STALE = {
    "cisco": {"DefaultTransport": "UDP", "Proxy 1 Address": "vcs.corp.example:5060", "URI": "room@corp.example"},
    "polycom": {"siptransportprotocol": "UDP", "sipproxyserver": "vcs.corp.example:5060",
                "sipusername": "room@corp.example", "sipregistrarserver": "vcs.corp.example"},
}


@functools.cache
def _builtin_profiles() -> ProfileSet:
    return ProfileSet.load()


def profile_for(spec: RoomSpec) -> Profile:
    vendor = next(v for prefix, v in VENDOR.items() if spec.model.startswith(prefix))
    identity = Identity("cisco" if vendor == "cisco" else "polycom", spec.model, spec.model, spec.software)
    return _builtin_profiles().select(identity, vendor)


def preset_for(spec: RoomSpec, sip_password: str, proxy: str) -> dict[str, str]:
    if spec.state == "factory":
        return {}
    profile = profile_for(spec)
    if spec.state == "registered":
        host = Host(spec.name, "127.0.0.1", model=spec.model,
                    sip=SipVars(number=spec.number, password=Secret(sip_password), proxy=proxy))
        rendered = profile.render(desired_state(host), host)
        return {s.setting: v.reveal() if isinstance(v, Secret) else v for s, v in rendered}
    stale = STALE["cisco" if profile.vendor == "cisco" else "polycom"]
    return {s.setting: value for s in profile.settings for suffix, value in stale.items()
            if s.setting.endswith(suffix) and not s.secret}
