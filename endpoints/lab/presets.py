"""Starting states of simulated rooms, written out as data in each device's own paths.

`registered` rooms carry what the meeting service's set-up guide asks of a Cisco or
Polycom terminal (protocols/huaweicloud.md §6): SIP on, TLS, registrar/domain
`huaweicloud.com`, the outbound proxy from the notice, and the SIP number
`+99111…@huaweicloud.com` as sign-in address (URI) and as user name, with the SIP password.
They are written here from the notes, not rendered through the product's profiles: when
the product would write something else, the lab says so (a first `apply` changes it).
`stale` rooms carry a typical old set-up (UDP, another proxy, an old account); `factory`
rooms keep the device defaults.
"""
from __future__ import annotations

from collections.abc import Mapping

from endpoints import support

DOMAIN = "huaweicloud.com"  # registrar and URI domain (huaweicloud.md §6)

STALE = {
    "cisco-ce": {"SIP DefaultTransport": "UDP", "SIP Proxy 1 Address": "vcs.corp.example:5060",
                 "SIP URI": "room@corp.example"},
    "cisco-tc": {"SIP Profile 1 DefaultTransport": "UDP", "SIP Profile 1 Proxy 1 Address": "vcs.corp.example:5060",
                 "SIP Profile 1 URI": "room@corp.example"},
    "polycom": {"siptransportprotocol": "UDP", "sipproxyserver": "vcs.corp.example:5060",
                "sipusername": "room@corp.example", "sipregistrarserver": "vcs.corp.example"},
}


def personality(model: str, software: str) -> str:
    """cisco-ce (CE and RoomOS paths), cisco-tc (`SIP Profile 1`) or polycom."""
    canonical = support.canonical_model(model)
    if canonical is None:
        raise ValueError(f"not a model of the support matrix: {model!r}")
    if support.family_of(canonical).vendor == "polycom":
        return "polycom"
    return "cisco-tc" if software.lower().startswith("tc") else "cisco-ce"


def preset_for(model: str, software: str, state: str, *, name: str, number: str, sip_password: str,
               proxy: str, sip: Mapping[str, str] | None = None) -> dict[str, str]:
    """Device paths -> values for a room's starting state (`{}` for a factory room).

    `sip` holds the room's own inventory keys where they differ from the guide
    (`uri`, `auth_username`, `display_name`, `registrar`, `proxy`, `domain`)."""
    if state == "factory":
        return {}
    kind = personality(model, software)
    if state == "stale":
        return dict(STALE[kind])
    if state != "registered":
        raise ValueError(f"unknown room state {state!r} (factory, stale or registered)")
    own = dict(sip or {})
    uri = own.get("uri") or f"{number}@{own.get('domain') or DOMAIN}"
    user = own.get("auth_username") or uri
    proxy = own.get("proxy") or proxy
    display = own.get("display_name") or name
    if kind == "cisco-ce":
        return {"NetworkServices SIP Mode": "On", "SIP URI": uri, "SIP DisplayName": display,
                "SIP Authentication UserName": user, "SIP Authentication Password": sip_password,
                "SIP Proxy 1 Address": proxy, "SIP DefaultTransport": "Tls",
                "Conference DefaultCall Protocol": "Sip"}
    if kind == "cisco-tc":
        return {"NetworkServices SIP Mode": "On", "SIP Profile 1 URI": uri, "SIP Profile 1 DisplayName": display,
                "SIP Profile 1 Authentication 1 LoginName": user,
                "SIP Profile 1 Authentication 1 Password": sip_password,
                "SIP Profile 1 Proxy 1 Discovery": "Manual", "SIP Profile 1 Proxy 1 Address": proxy,
                "SIP Profile 1 DefaultTransport": "Tls", "Conference 1 DefaultCall Protocol": "Sip"}
    return {"sipenable": "True", "sipusername": uri, "sipaccountname": user, "sippassword": sip_password,
            "sipregistrarserver": own.get("registrar") or DOMAIN, "sipproxyserver": proxy,
            "siptransportprotocol": "TLS"}
