"""Everything Telegram: the Application, handlers, reply formatting, jobs and the CLI."""
