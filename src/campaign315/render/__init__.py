"""The last step of the flow: results shown to people — console tables, files, reports."""
