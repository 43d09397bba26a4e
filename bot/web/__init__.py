"""The web server: the demo page with the help widget, the hotline agent console and their JSON API."""
