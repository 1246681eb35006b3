"""Step 2 of the flow: blank (or filled) forms from the campaign data, as .xlsx and .docx."""
