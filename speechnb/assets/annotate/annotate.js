// speechnb annotate. The start page signs in with the token of the link's #fragment (never part of a URL
// the server sees); the item page plays the audio, keeps the choice closed until both answers were heard
// (listen_first), offers keyboard shortcuts and posts the answer as JSON. The server decides what A and B are.
(function () {
  "use strict";
  const error = document.getElementById("error");
  const post = (url, body) => fetch(url, {method: "POST", credentials: "same-origin",
                                           headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const reason = async (response) => {
    const data = await response.json().catch(() => ({}));
    return typeof data.detail === "string" ? data.detail : "HTTP " + response.status;
  };

  function startPage(form) {
    const button = document.getElementById("start");
    const check = () => {   // again on every hash change: a link pasted into the same tab does not reload the page
      button.disabled = location.hash.length < 2;
      error.textContent = button.disabled ? "This link is incomplete: open the whole link the study owner sent you."
                                          : "";
    };
    window.addEventListener("hashchange", check);
    check();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const response = await post("/api/session", {token: location.hash.slice(1)});
        if (response.ok) { location.replace((await response.json()).next); return; }
        error.textContent = "Not signed in: " + await reason(response);
      } catch (e) { error.textContent = "Network error: please try again."; }
    });
  }

  function itemPage(form) {
    const listenFirst = form.dataset.listenFirst === "true";
    const started = performance.now();
    const heard = new Set(), audio = {};
    let revealed = false;
    const verdict = document.getElementById("verdict"), button = document.getElementById("submit");
    const hint = document.getElementById("listen-hint");
    function refresh() {
      heard.forEach((side) => {
        const label = document.getElementById("heard-" + side);
        if (label) label.textContent = "heard";
      });
      const open = !listenFirst || (heard.has("A") && heard.has("B"));
      verdict.disabled = !open;
      button.disabled = !open;
      if (hint) hint.hidden = open;
    }
    document.querySelectorAll("audio").forEach((player) => {
      audio[player.dataset.side] = player;
      player.addEventListener("play", () => Object.values(audio).forEach((o) => { if (o !== player) o.pause(); }));
      player.addEventListener("ended", () => { heard.add(player.dataset.side); refresh(); });
    });
    document.querySelectorAll("details").forEach((d) => d.addEventListener("toggle", () => { revealed ||= d.open; }));
    const toggle = (player) => { if (player.paused) player.play(); else player.pause(); };
    const players = {p: "prompt", a: "A", b: "B"};
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest("textarea, button")) return;
      const key = event.key.toLowerCase();
      if (key in players) { event.preventDefault(); toggle(audio[players[key]]); }
      else if (/^[1-7]$/.test(key) && !verdict.disabled) {
        form.querySelectorAll("input[name=verdict]")[Number(key) - 1].checked = true;
      }
      else if (key === "enter" && !button.disabled) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      if (!data.get("verdict")) { error.textContent = "Please choose A, B or tie."; return; }
      const [choice, strength] = data.get("verdict").split("|");
      const body = {item: Number(form.dataset.item), choice: choice, strength: strength,
                    reasons: data.getAll("reasons"), comment: data.get("comment") || "",
                    elapsed_ms: Math.round(performance.now() - started), played: Array.from(heard),
                    text_revealed: revealed};
      button.disabled = true;
      error.textContent = "";
      try {
        const response = await post("/api/answers", body);
        // 409: this item was already saved (e.g. from a second tab): move on as well.
        if (response.status === 201 || response.status === 409) { location.reload(); return; }
        error.textContent = response.status === 401 ? "Signed out: open your invitation link again."
                                                    : "Not saved: " + await reason(response);
      } catch (e) { error.textContent = "Not saved (network error): please try again."; }
      button.disabled = false;
    });
    refresh();
  }

  const start = document.getElementById("start-form"), form = document.getElementById("answer-form");
  if (start) startPage(start);
  if (form) itemPage(form);
})();
