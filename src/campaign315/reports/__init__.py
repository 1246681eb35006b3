"""Step 5 of the flow, reports — all read from the store and the spec, never from intake's insides:
where each unit stands (``standing``), the district roll-up as data (``summary``), the files a
leader opens (``summary_files``, ``district_form`` — the district's 附件2 on one page and its 附表 —,
``printing`` — how they all print —, ``report_html``), and the letters, marked copies and 催报
reminders for departments (``feedback``)."""
