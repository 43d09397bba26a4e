"""The operations console (/ops on the web server): turns read from the tracker store, feedback, the inbox with
labelling into the data files, the dashboard, users and the audit log. Command line: python -m bot.ops."""
