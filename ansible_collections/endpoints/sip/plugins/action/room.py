# Copyright: endpoints maintainers
# Apache License 2.0 (see the repository's pyproject.toml)
"""Runs `endpoints.sip.room` (and `endpoints.sip.facts`) on the controller, for one room.

Two things a module cannot know by itself: the room's name (the play's
`inventory_hostname`, which the command line would read from the inventory and which
becomes the room's default SIP display name, its report key and its pin key), and whether
the task really runs on the controller. A task that would run the module *on* the
endpoint (no `connection: local`) stops here with a clear message instead of trying to
log in to a codec with SSH and Python.
"""
from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        if self._connection.transport != "local":
            result.update(failed=True, msg=(
                f"{self._task.resolved_action} runs on the controller and reaches the room over its own API: "
                "set `connection: local` on the play (or `delegate_to: localhost`), not "
                f"connection {self._connection.transport!r}"))
            return result
        args = dict(self._task.args)
        if not args.get("name"):
            args["name"] = task_vars.get("inventory_hostname")
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        result.update(self._execute_module(module_name=self._task.resolved_action, module_args=args,
                                           task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
