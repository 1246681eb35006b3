"""Step 5 of the flow, reports — all read from the store and the spec, never from intake's insides:
where each unit stands (``standing``), the district roll-up as data (``summary``), the files a
leader opens (``summary_files``, ``report_html``), and the letters, marked copies and 催报
reminders for departments (``feedback``)."""
