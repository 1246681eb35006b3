"""c315 — the paperwork of a district 3·15 consumer-rights campaign.

The flow, one package per step: ``spec`` (the campaign and its forms, as data) → ``generate``
(blank forms) → ``intake`` (read, validate, ingest) → ``store`` (records and the archive) →
``reports`` (standing, summary, feedback). ``common`` is what they all stand on; ``cli`` and
``console`` only wire the steps together and print their results.
"""

__version__ = "0.1.0"
