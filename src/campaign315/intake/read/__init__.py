"""Reading, whatever suite saved the file: ``package`` sniffs the format and dispatches; ``xlsx``,
``docx`` and ``extent`` read within the limits in ``zipparts``; every reader yields rows of
:class:`~campaign315.intake.read.cells.Cell`, each carrying its
:class:`~campaign315.spec.location.Location`; ``locate`` finds the form's parts by their labels."""
