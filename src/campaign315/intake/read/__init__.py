"""Step 3 of the flow: a returned file → rows of located cells (whatever suite saved it) → the
form's parts found by their labels, ready for validation."""
