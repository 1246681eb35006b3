"""Validation: one cell → a clean value and its problems (``values``); a located form → who sent
it, which attachment, the typed filled form and every problem (``returns``)."""
