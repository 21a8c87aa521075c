"""The engine: a room's context, the runner that moves rooms through a task, and processors.

A command is a task (`endpoints.tasks`): a function of one `Room` that reads top to
bottom and pauses (yields) while the room registers. The `Runner` gives each room a
worker slot only while it works, never while it waits. Processors observe the run (event
log, progress, output, history, backup), as Nornir's do.
"""
