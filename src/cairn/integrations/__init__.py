"""Agent clients (Claude Code, Codex CLI): the hook events (``events``, one table the runner and
the installer share), what differs per agent (``claude``, ``codex``), the one transcript reader
(``transcripts``, also the audit's), the hook runner (``hooks``), installation and AGENTS.md notes."""
