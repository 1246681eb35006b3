"""Step 1 of the flow, the specification: the campaign as data (``campaign``), the one definition of
the two forms and where each part sits (``forms``), where in a file something is (``location``),
every problem c315 can find (``problems``), and the workspace that holds them (``workspace``).
Imports nothing above ``common``."""
