# Copyright: endpoints maintainers
# Apache License 2.0 (see the repository's pyproject.toml)
"""`endpoints.sip.facts` runs like `endpoints.sip.room`: on the controller, named after the host."""
from __future__ import annotations

from ansible_collections.endpoints.sip.plugins.action.room import ActionModule  # noqa: F401
