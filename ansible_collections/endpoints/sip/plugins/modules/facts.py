#!/usr/bin/python
# Copyright: endpoints maintainers
# Apache License 2.0 (see the repository's pyproject.toml)
"""endpoints.sip.facts: what `endpoints facts` reads from one room, as Ansible facts."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: facts
short_description: Read one video endpoint's model, software, serial, SIP settings and registration
version_added: "0.2.0"
description:
  - Runs C(endpoints facts) for one room, on the controller, over the room's own API, and returns what
    it read as the fact C(endpoints_room). Changes nothing on the room.
  - The options are the C(endpoints) inventory's connection keys with the same names and meanings,
    checked by the same inventory loader the command line uses.
author:
  - endpoints maintainers
requirements:
  - The Python distribution C(endpoints-sip) (import package C(endpoints)) on the controller or in the
    execution environment, Python 3.11 or later.
notes:
  - Run it with C(connection=local) (or C(delegate_to=localhost)); the room's name is the play's
    C(inventory_hostname) unless O(name) is given.
  - An unreachable room ends the task as an unreachable host (C(unreachable=true), counted C(unreachable)
    in the recap); a room that answers but cannot be read fails the task.
extends_documentation_fragment:
  - endpoints.sip.room
attributes:
  check_mode:
    support: full
    description: The module never changes the room.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: local
"""

EXAMPLES = r"""
- name: What every room says about itself
  hosts: rooms
  connection: local
  gather_facts: false
  tasks:
    - name: Read the room
      endpoints.sip.facts:
        address: "{{ address }}"
        model: "{{ model }}"
        transport: "{{ transport | default(omit) }}"
        ports: "{{ ports | default(omit) }}"
        device_credentials: "{{ device_credentials }}"
        tls_verify: "{{ tls_verify | default(omit) }}"

    - name: Rooms not registered
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }}: {{ endpoints_room.registration.state }}"
      when: endpoints_room.registration.state != 'registered'
"""

RETURN = r"""
ansible_facts:
  description: What the room said.
  returned: on success
  type: dict
  contains:
    endpoints_room:
      description: The room's model, software, serial, chosen profile, SIP settings and registration.
      type: dict
      sample:
        model: SX20
        software: ce9.4.0.cd3c4c6
        serial: FTT2001LAB
        profile: cisco-ce
        settings: {"SIP Proxy 1 Address": "sip2-ec.huaweicloud.com:5061"}
        registration: {state: registered, reason: ""}
advice:
  description: For a failure, the likely cause and the fix in one sentence.
  returned: when there is advice
  type: str
unreachable:
  description: The room's API could not be reached; the task ended as an unreachable host.
  returned: when the room was unreachable
  type: bool
msg:
  description: What went wrong.
  returned: on failure
  type: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.endpoints.sip.plugins.module_utils.room_run import (
    CONNECTION_SPEC,
    DISTRIBUTION,
    ENDPOINTS_IMPORT_ERROR,
    OptionError,
    answer,
    finish,
    masked,
    options_for,
    room_host,
    run_room,
)


def main() -> None:
    module = AnsibleModule(argument_spec=CONNECTION_SPEC, supports_check_mode=True)
    if ENDPOINTS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib(DISTRIBUTION), exception=ENDPOINTS_IMPORT_ERROR)
    params: dict[str, Any] = module.params
    try:
        with room_host(params, module.tmpdir) as host:
            result = run_room(host, options_for("facts", params, True), params, module.warn)
            values = answer(result, host, check=True)
            room = {key: values.get(key) for key in ("model", "software", "serial", "profile", "registration")}
            room["settings"] = masked(dict(result.settings), host)
            values["ansible_facts"] = {"endpoints_room": room}
            finish(module, result, host, values)
    except OptionError as error:
        module.fail_json(msg=str(error))


if __name__ == "__main__":
    main()
