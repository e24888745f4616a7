// cairn ui: keeps the open view current without a reload.
// Polls the store's change token (one cheap read) and, when it moved, fetches the same view's
// markup and swaps it into <main>. The markup is built and escaped by the server; the page's
// Content-Security-Policy runs no inline script, so swapped-in text can only be shown.
const POLL_MS = 300;
const main = document.getElementById("view");
const live = document.getElementById("live");
let token = main ? main.dataset.token : "";
let busy = false;
let failures = 0;

function show(state, text) {
  if (!live) return;
  live.className = "live " + state;
  live.textContent = text;
}

async function refresh(next) {
  const url = "/fragment" + window.location.search;
  const resp = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!resp.ok && resp.status !== 404) throw new Error("HTTP " + resp.status);
  const html = await resp.text();
  // Keep what the reader opened (details) and where they were reading.
  const open = new Set(
    [...main.querySelectorAll("details[open]")].map((d, i) => d.dataset.key || String(i))
  );
  const doc = new DOMParser().parseFromString("<main>" + html + "</main>", "text/html");
  main.replaceChildren(...doc.body.firstChild.childNodes);
  [...main.querySelectorAll("details")].forEach((d, i) => {
    if (open.has(d.dataset.key || String(i))) d.open = true;
  });
  token = resp.headers.get("x-cairn-token") || next;
  main.dataset.token = token;
  main.dispatchEvent(new CustomEvent("cairn:updated", { detail: { token } }));
}

async function poll() {
  if (busy || document.hidden) return;
  busy = true;
  try {
    const resp = await fetch("/api/token", { credentials: "same-origin", cache: "no-store" });
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    const next = (await resp.json()).token;
    if (next !== token) await refresh(next);
    failures = 0;
    show("on", "live");
  } catch (err) {
    failures += 1;
    show("off", failures > 3 ? "disconnected: is `cairn ui` still running?" : "reconnecting…");
  } finally {
    busy = false;
  }
}

if (main) {
  show("on", "live");
  setInterval(poll, POLL_MS);
  document.addEventListener("visibilitychange", poll);
}
