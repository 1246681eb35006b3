"""Step 2 of the flow: blank (or filled) forms from the spec, as .xlsx and .docx — rendered once per
attachment and format, the unit stamped into copies. Writing forms never reads them."""
