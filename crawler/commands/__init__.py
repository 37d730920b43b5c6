"""Project commands: ``crawl`` with exit codes that cron and systemd can act on."""
