"""Public information screens: layouts of tiles, live updates, crisis messages, heartbeats.

See docs/screens.md. A screen is a row of the ``screens`` table (its tiles are checked by
``tiles``); ``state`` computes what a screen shows from the hub's own data, ``live`` pushes
changes to the screens connected to this process, ``public`` and ``admin`` are its faces.
"""
