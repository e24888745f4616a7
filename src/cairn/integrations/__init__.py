"""Agent clients (Claude Code, Codex CLI): hook events, installation, AGENTS.md/CLAUDE.md notes."""
