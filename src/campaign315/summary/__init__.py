"""Step 6 of the flow: the district roll-up at a cut-off, built from every unit's counting return."""
