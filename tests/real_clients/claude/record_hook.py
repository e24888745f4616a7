"""A user's own hook for the real-client tests: appends its JSON input as one line to
$RECORD_HOOKS_TO (with the environment marker cairn sets on its own sessions). With
$BLOCK_STOP_ONCE naming a file that does not exist yet, it blocks the first Stop (and creates the
file), as a user's hook that wants one more thing might; otherwise it prints nothing."""

import json
import os
import sys

data = json.loads(sys.stdin.read() or "{}")
data["_cairn_spawned"] = os.environ.get("CAIRN_SPAWNED")
with open(os.environ["RECORD_HOOKS_TO"], "a", encoding="utf-8") as f:
    f.write(json.dumps(data) + "\n")
once = os.environ.get("BLOCK_STOP_ONCE")
if data.get("hook_event_name") == "Stop" and once and not os.path.exists(once):
    open(once, "w").close()
    print(json.dumps({"decision": "block", "reason": "user hook: say whether you are sure."}))
