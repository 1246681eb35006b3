"""``c315 serve``: a small web console on the office network over the same library the command
line calls — departments check and hand in their own forms through their own links, the collector
watches the board. :mod:`.tokens` keeps who may do what; :mod:`.app` is the Starlette application."""
