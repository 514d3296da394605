// Sends one answer as JSON and loads the next item. The server decides what "A" and "B" are;
// this page never knows which response came first in the input file.
(function () {
  const form = document.getElementById("answer-form");
  if (!form) return;
  const started = performance.now();
  const played = new Set();
  let revealed = false;
  document.querySelectorAll("audio").forEach(a => a.addEventListener("play", () => played.add(a.dataset.side)));
  document.querySelectorAll("details").forEach(d => d.addEventListener("toggle", () => { if (d.open) revealed = true; }));
  const button = document.getElementById("submit");
  const error = document.getElementById("error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const verdict = data.get("verdict");
    if (!verdict) { error.textContent = "Please choose A, B or tie."; return; }
    const [choice, strength] = verdict.split("|");
    const body = {
      annotator: form.dataset.annotator, pair_id: form.dataset.pair, choice: choice, strength: strength,
      reasons: data.getAll("reasons"), comment: data.get("comment") || "",
      elapsed_ms: Math.round(performance.now() - started), played: Array.from(played), text_revealed: revealed,
    };
    button.disabled = true;
    error.textContent = "";
    try {
      const response = await fetch("/api/answers", {method: "POST", headers: {"Content-Type": "application/json"},
                                                     body: JSON.stringify(body)});
      // 409: this item was already saved (e.g. a second tab): move on as well.
      if (response.status === 201 || response.status === 409) { window.location.reload(); return; }
      const detail = await response.json().catch(() => ({}));
      error.textContent = "Not saved: " + (detail.detail ? JSON.stringify(detail.detail) : response.status);
    } catch (e) {
      error.textContent = "Not saved (network error): please try again.";
    }
    button.disabled = false;
  });
})();
