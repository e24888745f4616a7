"""A user's own hook for the real-client tests: appends its JSON input as one line to
$RECORD_HOOKS_TO (with the environment marker cairn sets on its own sessions) and prints nothing."""

import json
import os
import sys

data = json.loads(sys.stdin.read() or "{}")
data["_cairn_spawned"] = os.environ.get("CAIRN_SPAWNED")
with open(os.environ["RECORD_HOOKS_TO"], "a", encoding="utf-8") as f:
    f.write(json.dumps(data) + "\n")
