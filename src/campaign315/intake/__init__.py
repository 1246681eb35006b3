"""Step 3 of the flow, intake: a returned file is read into located cells (``read``), checked
against the spec into a typed filled form and its problems (``validate``), and archived and
recorded in the store (``ingest``)."""
