"""Services: what the web layer and the CLI ask; they own SQL and engine calls."""
