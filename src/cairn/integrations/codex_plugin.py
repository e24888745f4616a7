"""cairn as a Codex plugin, in a local marketplace the real ``codex plugin`` commands install.

``cairn hooks plugin codex DIR`` writes::

    DIR/.agents/plugins/marketplace.json           the marketplace "cairn-local", one plugin
    DIR/plugins/cairn/.codex-plugin/plugin.json    the manifest
    DIR/plugins/cairn/skills/cairn-checkpoints/    the skill (the checkpoint workflow)
    DIR/plugins/cairn/.mcp.json                    cairn's MCP server (approve, required)
    DIR/plugins/cairn/hooks.json                   cairn's hooks

and the trust of the plugin's hooks in ``$CODEX_HOME/config.toml``: Codex keys a plugin's hooks
``"<plugin>@<marketplace>:<file in the plugin>:<event>:<group>:<handler>"`` and hashes them as any
other hook (:mod:`~cairn.integrations.codex_trust`). Then ``codex plugin marketplace add DIR`` and
``codex plugin add cairn@cairn-local`` install it. The commands in it start this Python's cairn,
so the plugin is written per machine. Use it instead of ``cairn hooks install codex``, not with it
(both would run every hook twice).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cairn.integrations.files import Change, dump, write

MARKETPLACE = "cairn-local"
PLUGIN = "cairn"
HOOKS_FILE = "hooks.json"


def plugin_id() -> str:
    return f"{PLUGIN}@{MARKETPLACE}"


def files(base: list[str]) -> dict[str, str]:
    """Relative path → content of every file of the marketplace."""
    from cairn import __version__
    from cairn.integrations import codex_skill
    from cairn.integrations.codex import MCP_DEFAULTS, mcp_entry
    from cairn.integrations.install import merge_hooks

    manifest = {
        "name": PLUGIN,
        "version": __version__,
        "description": "Durable checkpoints, a status file and one-read recovery for long agent "
        "work across context compaction.",
        "skills": "./skills/",
        "mcpServers": "./.mcp.json",
        "hooks": f"./{HOOKS_FILE}",
        "interface": {
            "displayName": "cairn",
            "shortDescription": "Checkpoints and recovery that survive context compaction",
            "category": "Productivity",
        },
    }
    marketplace = {
        "name": MARKETPLACE,
        "interface": {"displayName": "cairn (this machine)"},
        "plugins": [
            {
                "name": PLUGIN,
                "source": {"source": "local", "path": f"./plugins/{PLUGIN}"},
                "policy": {"installation": "AVAILABLE", "authentication": "ON_INSTALL"},
                "category": "Productivity",
            }
        ],
    }
    server = {**mcp_entry(base), **MCP_DEFAULTS}
    root = f"plugins/{PLUGIN}"
    return {
        ".agents/plugins/marketplace.json": dump(marketplace),
        f"{root}/.codex-plugin/plugin.json": dump(manifest),
        f"{root}/skills/{codex_skill.NAME}/SKILL.md": codex_skill.text(),
        f"{root}/.mcp.json": dump({"mcpServers": {"cairn": server}}),
        f"{root}/{HOOKS_FILE}": dump(merge_hooks({}, base, "codex")),
    }


def write_plugin(target: Path, base: list[str]) -> list[Change]:
    """Write the marketplace into ``target`` and trust the plugin's hooks; each file once."""
    import tomlkit

    from cairn.integrations import codex_trust
    from cairn.integrations.codex import _toml_doc, codex_home
    from cairn.integrations.install import is_cairn_handler

    content = files(base)
    hooks_rel = f"plugins/{PLUGIN}/{HOOKS_FILE}"
    old_hooks: dict[str, Any] = {}
    if (target / hooks_rel).is_file():
        try:
            old_hooks = json.loads((target / hooks_rel).read_text(encoding="utf-8"))
        except ValueError:
            old_hooks = {}
    user_path = codex_home() / "config.toml"
    doc = _toml_doc(user_path)  # read (so validated) before anything is written
    changes = [write(target / rel, text, "plugin") for rel, text in content.items()]
    source = f"{plugin_id()}:{HOOKS_FILE}"
    codex_trust.sync_source(
        doc, source, old_hooks, json.loads(content[hooks_rel]), is_cairn_handler
    )
    changes.append(write(user_path, tomlkit.dumps(doc), "Codex config"))
    return changes


def next_steps(target: Path) -> list[str]:
    return [
        f"install it into Codex: `codex plugin marketplace add {target}` then "
        f"`codex plugin add {plugin_id()}` (the hooks' trust is written already)",
        "use the plugin or `cairn hooks install codex`, not both: every hook would run twice",
    ]
