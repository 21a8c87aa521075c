# Copyright: endpoints maintainers
# Apache License 2.0 (see the repository's pyproject.toml)
"""The options every module of the collection takes to reach one room (the inventory's keys)."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  name:
    description:
      - The room's name, as the inventory names the host (reports, the default SIP display name,
        recorded certificate pins).
      - Filled in with C(inventory_hostname) by the collection's action plugin.
    type: str
  address:
    description: IP address or DNS name of the endpoint.
    type: str
    required: true
  model:
    description:
      - V(SX10), V(SX20), V(SX80), V(Group 310), V(Group 500), V(Group 550), V(Group 700), V(HDX 4500),
        V(HDX 6000), V(HDX 7000), V(HDX 8000), V(HDX 9000), V(Room Kit), V(Room Bar) or V(Desk Pro); case and spaces do not matter.
    type: str
  transport:
    description:
      - Which API to drive. Cisco V(http), V(https), V(ssh); Group Series V(rest), V(ssh), V(telnet);
        HDX V(telnet), V(http). Default the profile's first choice.
    type: str
  ports:
    description:
      - Per-protocol port overrides, keyed by the protocol underneath the transport (Group Series V(rest)
        travels over HTTPS, so its port is O(ports.https)).
    type: dict
    suboptions:
      http:
        description: HTTP port.
        type: int
      https:
        description: HTTPS port.
        type: int
      ssh:
        description: SSH port.
        type: int
      telnet:
        description: Telnet port.
        type: int
  device_credentials:
    description: The endpoint's administrator login.
    type: dict
    suboptions:
      username:
        description: User name (Polycom telnet ignores it). Default V(admin).
        type: str
      password:
        description:
          - 'The administrator password, a string (from Ansible Vault or a lookup), or C({env: NAME}) or
            C({file: PATH}) as the C(endpoints) inventory takes them.'
        type: raw
  tls_verify:
    description:
      - For HTTPS APIs, V(true) (the system CAs, or a pin recorded by C(endpoints trust --accept)),
        V(false), a CA bundle path, or C(sha256:<fingerprint>) (a pin of the device certificate).
      - Default V(true).
    type: raw
  ssh_host_key:
    description: SSH host key policy, V(strict) (default), V(accept-new) or V(off).
    type: raw
  known_hosts:
    description: The known_hosts file for SSH host keys. Default C(~/.ssh/known_hosts).
    type: path
  serial:
    description: The device's serial number.
    type: str
  profile:
    description: Force a profile by name instead of choosing it by the detected software.
    type: str
  timeout:
    description: Total seconds for one request to the device (connect and the whole answer).
    type: float
    default: 10.0
  state_dir:
    description:
      - The folder of the memory the command line keeps between runs (refused passwords, certificate pins).
      - Default C($ENDPOINTS_STATE_DIR), else C($XDG_STATE_HOME/endpoints), else
        C(~/.local/state/endpoints), as for the command line.
      - In AWX, a path on storage that outlives the job (a volume of the container group or a path exposed
        to jobs); otherwise every job starts without the memory of refused passwords.
    type: path
  run_dir:
    description:
      - When given, the room's run folder is kept under it as the command line keeps one
        (C(events.jsonl), C(report.json), and C(backup.json) for C(endpoints rollback --run)).
    type: path
"""
