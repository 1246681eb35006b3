"""c315 — the paperwork of a district 3·15 consumer-rights campaign.

The flow, one module per step: ``campaign`` (the spec, as data) → ``forms`` (what a filled form
means and where each label sits) → ``generate`` → ``read`` → ``validate`` → ``store`` →
``summary`` → ``render``. The CLI in ``cli`` only wires these together.
"""

__version__ = "0.1.0"
