#!/usr/bin/python
# Copyright: endpoints maintainers
# Apache License 2.0 (see the repository's pyproject.toml)
"""endpoints.sip.room: put the SIP registration onto one room and prove it registered."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: room
short_description: Put SIP registration onto one Cisco or Polycom video endpoint and prove it registered
version_added: "0.2.0"
description:
  - Runs C(endpoints apply) for one room, on the controller, over the room's own API (Cisco xAPI over
    HTTP(S) or SSH; Polycom Group Series REST, SSH or telnet; HDX telnet or HTTP).
  - Reads the room's model, software and SIP settings, chooses the profile for its software, writes
    only the settings that differ, and waits until the room says it registered (unless O(verify=false)).
  - The options are the C(endpoints) inventory's keys with the same names and meanings. They are
    checked by the same inventory loader the command line uses, so a room the command line refuses is
    refused here with the same words, naming the option (C(option 'sip.number':) ...).
  - A password is sent only when the room needs it (a registered room whose SIP settings are right keeps
    its own), and a password the meeting service refused before is never sent again; the memory of
    refused passwords is the command line's (O(state_dir)), so this holds across playbook runs, AWX jobs
    and command-line runs that share it.
  - In check mode nothing is written to the room; the task reports what C(apply) would change.
  - Secret values never appear in the task result, its diff or its warnings.
author:
  - endpoints maintainers
requirements:
  - The Python distribution C(endpoints-sip) (import package C(endpoints)) on the controller or in the
    execution environment, Python 3.11 or later.
notes:
  - Run it with C(connection=local) on the play (or C(delegate_to=localhost) on the task); the module runs on
    the controller and reaches the room over the network, and the collection's action plugin refuses any
    other connection.
  - The room's name is the play's C(inventory_hostname) unless O(name) is given.
  - A room that cannot be reached (no conversation with its API) ends the task the way Ansible ends an
    unreachable host; the result says C(unreachable=true), the recap counts the host as C(unreachable),
    C(ansible-playbook) exits with 4 (as C(endpoints apply) does), C(ignore_unreachable) applies, and the
    host takes no further part in the play. A room that was reached but failed (wrong SIP password,
    refused setting, login refused, registration timed out) fails the task.
  - Quote SIP numbers in YAML, V("+99111612345"); YAML reads a bare C(+99111612345) as an integer, which
    loses its C(+).
  - 'Relative paths (O(known_hosts), a CA bundle in O(tls_verify), C({file: PATH}) secrets) are relative to
    the directory of the playbook (or role) the task is in, where Ansible runs a local module.'
extends_documentation_fragment:
  - endpoints.sip.room
attributes:
  check_mode:
    support: full
    description: Reads the room and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Settings before and after; passwords show only V(********) and why they are sent.
  platform:
    platforms: local
    description: Runs on the controller (C(connection=local)).
options:
  sip:
    description: The SIP account the meeting service issued for this room.
    type: dict
    suboptions:
      number:
        description: The SIP number, for example V(+99111612345) (quote it).
        type: str
      domain:
        description: Domain appended to the number. Default V(huaweicloud.com).
        type: str
      uri:
        description: Full SIP URI. Default C(<number>@<domain>).
        type: str
      auth_username:
        description: Authentication user name. Default the URI.
        type: str
      password:
        description:
          - 'The SIP password, a string (from Ansible Vault or a lookup), or C({env: NAME}) or C({file: PATH}).'
          - Required unless in check mode.
        type: raw
      display_name:
        description: Shown name. Default the room's name.
        type: str
      registrar:
        description: Registrar server. Default V(huaweicloud.com).
        type: str
      proxy:
        description: Outbound proxy C(host:port). Default V(sip2-ec.huaweicloud.com:5061).
        type: str
      transport:
        description: V(tls) (default). V(udp) is refused; the service does not accept it.
        type: str
  verify:
    description: After writing, wait until the room says it registered (or failed to).
    type: bool
    default: true
  verify_timeout:
    description: Seconds to wait for registration after writing.
    type: float
    default: 120.0
  force_password:
    description:
      - Send the SIP password even though the service refused this same password for this number before
        (the module otherwise fails the room without sending it, to keep the number out of the service's
        lock). Use once, after the account was fixed at the service.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Put every room on the meeting service
  hosts: rooms
  connection: local
  gather_facts: false
  tasks:
    - name: Register the room
      endpoints.sip.room:
        address: "{{ address }}"
        model: "{{ model }}"
        transport: "{{ transport | default(omit) }}"
        ports: "{{ ports | default(omit) }}"
        device_credentials:
          username: admin
          password: "{{ vault_device_password }}"
        sip:
          number: "{{ sip_number }}"
          password: "{{ lookup('ansible.builtin.env', 'SIP_PASSWORD_' ~ inventory_hostname | upper | replace('-', '_')) }}"
        tls_verify: "{{ tls_verify | default(omit) }}"
        known_hosts: "{{ playbook_dir }}/known_hosts"
      register: registered

    - name: Say why a room failed
      ansible.builtin.debug:
        var: registered.advice
      when: registered.advice is defined

- name: Preview only (ansible-playbook --check --diff)
  endpoints.sip.room:
    address: 192.0.2.10
    model: SX20
    transport: https
    sip:
      number: "+99111612345"
  check_mode: true
  diff: true
"""

RETURN = r"""
changed:
  description: The room was changed (in check mode, would be).
  returned: always
  type: bool
status:
  description: The room's verdict, as C(endpoints apply) reports it.
  returned: always
  type: str
  choices: [ok, changed, failed, unreachable, skipped]
changes:
  description: The settings written (check mode, that would be written), by the device's own setting path.
  returned: always
  type: list
  elements: dict
  sample:
    - {setting: "SIP Proxy 1 Address", before: "", after: "sip2-ec.huaweicloud.com:5061"}
    - {setting: "SIP Authentication Password", before: "********", after: "********",
       reason: "registration is unregistered"}
registration:
  description: The room's registration as the room itself reports it; null when it was never read.
  returned: always
  type: dict
  sample: {state: registered, reason: ""}
  contains:
    state:
      description: V(registered), V(registering), V(failed), V(unregistered) or V(unknown).
      type: str
    reason:
      description: The device's own words about it.
      type: str
advice:
  description: For a failure, the likely cause and the fix in one sentence (also set for software below
    the tested minimum).
  returned: when there is advice
  type: str
  sample: "the service refused the SIP credentials: check sip.number and sip.password ..."
unreachable:
  description: The room's API could not be reached; the task ended as an unreachable host.
  returned: when the room was unreachable
  type: bool
msg:
  description: What went wrong.
  returned: on failure
  type: str
model:
  description: The model the room reports.
  returned: when the room was read
  type: str
software:
  description: The software version the room reports.
  returned: when the room was read
  type: str
serial:
  description: The serial number the room reports.
  returned: when the room was read
  type: str
profile:
  description: The profile chosen for the room's software.
  returned: when the room was read
  type: str
transport:
  description: The API driven.
  returned: always
  type: str
restored:
  description: Settings put back after the device refused a write part-way.
  returned: when a write was refused part-way
  type: list
  elements: dict
not_restored:
  description: Secret settings that were written and cannot be read back to restore.
  returned: when a write was refused part-way
  type: list
  elements: str
diff:
  description: With C(--diff), the settings before and after (passwords masked).
  returned: when diff mode is on
  type: dict
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.endpoints.sip.plugins.module_utils.room_run import (
    DISTRIBUTION,
    ENDPOINTS_IMPORT_ERROR,
    ROOM_SPEC,
    OptionError,
    answer,
    diff_of,
    finish,
    options_for,
    room_host,
    run_room,
)


def main() -> None:
    module = AnsibleModule(argument_spec=ROOM_SPEC, supports_check_mode=True)
    if ENDPOINTS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib(DISTRIBUTION), exception=ENDPOINTS_IMPORT_ERROR)
    command = "plan" if module.check_mode else "apply"
    params: dict[str, Any] = module.params
    try:
        with room_host(params, module.tmpdir) as host:
            options = options_for(command, params, module.check_mode)
            result = run_room(host, options, params, module.warn)
            values = answer(result, host, check=module.check_mode)
            if module._diff:
                values["diff"] = diff_of(result, host)
            finish(module, result, host, values)
    except OptionError as error:
        module.fail_json(msg=str(error))


if __name__ == "__main__":
    main()
