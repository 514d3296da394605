"""Load check of `speechnb annotate serve`: N invited annotators on loopback for a while, with a crash and a restart.

Each simulated annotator signs in with its invitation token (`speechnb annotate invite`), then loops:
GET /api/next, GET the A and B audio, POST its answer (having "heard" both); one answer in ten is sent
twice on purpose (a double click) and must get 409. Halfway through, the server is killed with SIGKILL
(a crash) and started again at once, with the same command, on the same port: the restart must bind
at once (not be refused for a minute with "address already in use") and the annotators carry on with
their cookies. At the end the server is killed again before its database is read, so "not lost" means
"on disk": every answer acknowledged with a 201, before or after the crash, must be stored exactly once.

    .venv/bin/python benchmarks/bench_annotate_load.py --seconds 60      # the issue's check (20 annotators)
    .venv/bin/python benchmarks/bench_annotate_load.py --quick           # 10 s

Traffic goes only to 127.0.0.1 (a server this script starts and stops); the loops are bounded in time.
Latencies are measured by the clients, which share the machine's cores with the server. Requests that
fail while the server is down (from the kill until the restarted server answers, plus 1 s) are counted
as outage errors; any other transport error, any 5xx and any unexpected status fail the check.
The last line is `P95_MS <p95 of all requests in ms>`; the exit status is 1 if the check fails.

`--quick` runs 10 s instead of 60 s with the same annotators and the same kill -9 at half time: the same load per
second, about a sixth of the requests, so its p95 is noisier, and the restart's outage is a larger share of the run.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPEECHNB = Path(sys.executable).parent / "speechnb"


def make_study(folder: Path, n_pairs: int, n_annotators: int) -> tuple[Path, Path]:
    "A pairs file whose answers all point at two small real WAV files, and a study where everyone judges everything."
    from speechnb.audio import save_wav, speak

    wav_a = save_wav(folder / "a.wav", speak("The capital of Kenya is Nairobi."))
    wav_b = save_wav(folder / "b.wav", speak("Nairobi, see the encyclopedia."))
    rows = [
        {
            "pair_id": f"p{i:05d}",
            "prompt": f"Question number {i}?",
            "response_a": f"Answer one to {i}.",
            "response_b": f"Answer two to {i}.",
            "audio_a": str(wav_a),
            "audio_b": str(wav_b),
            "prompt_audio": str(wav_a),
        }
        for i in range(n_pairs)
    ]
    pairs = folder / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = folder / "study.yaml"
    config.write_text(f"name: load check\nannotators_per_pair: {n_annotators}\nseed: 1\n")
    return pairs, config


class ServerProcess:
    "The server under test: started, killed and restarted with one and the same command."

    def __init__(self, folder: Path, pairs: Path, config: Path):
        self.folder, self.db = folder, folder / "annotations.sqlite"
        words = ["--db", self.db, "--pairs", pairs, "--config", config, "--port", 0]  # the port stays last
        self.command = [str(SPEECHNB), "annotate", "serve", *map(str, words)]
        self.process, self.port, self.starts = None, None, 0

    def start(self) -> dict:
        "Start (first on a free port, then on the same one); returns seconds until it bound and until it answered."
        if self.port is not None:
            self.command[-1] = str(self.port)
        self.starts += 1
        log = self.folder / f"server-{self.starts}.log"
        started = time.perf_counter()
        with open(log, "w") as out:
            self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        bound = answered = None
        while answered is None:
            if self.process.poll() is not None or time.perf_counter() - started > 60:
                raise SystemExit("the server did not start:\n" + log.read_text())
            if self.port is None and (found := re.search(r" at http://127\.0\.0\.1:(\d+)/ ", log.read_text())):
                self.port = int(found[1])
            if self.port is not None and bound is None and _accepts(self.port):
                bound = time.perf_counter() - started
            if bound is not None and _answers(self.port):
                answered = time.perf_counter() - started
            time.sleep(0.01)
        return {"bound_s": bound, "answered_s": answered, "log": log.read_text()}

    def kill(self) -> None:
        "SIGKILL, a crash: whatever was acknowledged must already be on disk."
        self.process.kill()
        self.process.wait()

    def invite(self, names: list[str]) -> dict[str, str]:
        done = subprocess.run(
            [str(SPEECHNB), "annotate", "invite", "--db", str(self.db), *names],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(done.stderr)
        return {name: link.split("#", 1)[1] for name, link in (line.split() for line in done.stdout.splitlines())}


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def annotator_loop(
    base: str, token: str, stop_at: float, rng: random.Random, results: dict, lock: threading.Lock
) -> None:
    acked, latencies, statuses, errors = [], [], Counter(), []
    with httpx.Client(base_url=base, timeout=30) as client:

        def call(kind, method, url, **kwargs):
            start = time.perf_counter()
            try:
                response = client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                errors.append((time.time(), f"{kind}: {exc!r}"))
                time.sleep(0.05)  # the server may be restarting
                return None
            latencies.append((kind, 1000 * (time.perf_counter() - start)))
            statuses[(kind, response.status_code)] += 1
            return response

        signed_in = False
        while not signed_in and time.time() < stop_at:
            signed = call("session", "POST", "/api/session", json={"token": token})
            signed_in = signed is not None and signed.status_code == 200
        while signed_in and time.time() < stop_at:
            response = call("next", "GET", "/api/next")
            if response is None or response.status_code != 200:
                continue
            item = response.json()
            if item["done"]:
                break
            for side in ("A", "B"):
                audio = call("audio", "GET", item["audio"][side])
                if audio is not None and (
                    audio.headers.get("content-type") != "audio/wav" or audio.content[:4] != b"RIFF"
                ):
                    errors.append((time.time(), "audio: not a WAV"))
            choice = rng.choice(["A", "B", "tie"])
            body = {
                "item": item["item"],
                "choice": choice,
                "strength": "tie" if choice == "tie" else rng.choice(["much better", "better", "slightly better"]),
                "reasons": rng.sample(["concise", "helpful", "sayable"], k=rng.randint(0, 2)),
                "comment": "",
                "elapsed_ms": rng.randint(500, 9000),
                "played": ["A", "B"],
            }
            answer = call("answer", "POST", "/api/answers", json=body)
            if answer is not None and answer.status_code == 201:
                acked.append((token, item["item"], answer.json()["answer_id"]))
                if rng.random() < 0.1:  # a double click: must be refused
                    call("double", "POST", "/api/answers", json=body)
    with lock:
        results["acked"] += acked
        results["latencies"] += latencies
        results["statuses"].update(statuses)
        results["errors"] += errors


def run_load(server: ServerProcess, tokens: dict[str, str], seconds: float) -> dict:
    "The annotators for `seconds`, with a kill -9 and a restart of the server halfway."
    results = {"acked": [], "latencies": [], "statuses": Counter(), "errors": []}
    lock = threading.Lock()
    base = f"http://127.0.0.1:{server.port}"
    stop_at = time.time() + seconds
    threads = [
        threading.Thread(target=annotator_loop, args=(base, token, stop_at, random.Random(i), results, lock))
        for i, token in enumerate(tokens.values())
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds / 2)
    killed_at = time.time()
    server.kill()
    restart = server.start()
    restart["killed_at"], restart["ready_at"] = killed_at, killed_at + restart["answered_s"]
    for thread in threads:
        thread.join()
    results["elapsed"], results["restart"] = time.perf_counter() - started, restart
    results["alive"] = server.process.poll() is None
    return results


def stored_answers(db: Path, tokens: dict[str, str]) -> list[tuple]:
    "(token, item, answer_id) of every answer on disk, read after the final kill."
    with sqlite3.connect(db) as con:
        rows = con.execute("""SELECT a.annotator, s.position, a.answer_id FROM answers a
                              JOIN assignments s ON s.annotator = a.annotator AND s.pair_id = a.pair_id""").fetchall()
    return [(tokens[name], position, answer_id) for name, position, answer_id in rows]


def report(args, results: dict, stored: list[tuple]) -> bool:
    "Print the numbers; True when the check passes."
    acked, statuses, restart = results["acked"], results["statuses"], results["restart"]
    acked_keys, stored_keys = Counter((t, i) for t, i, _ in acked), Counter((t, i) for t, i, _ in stored)
    lost = sum((acked_keys - stored_keys).values())
    duplicated = sum(n - 1 for n in stored_keys.values() if n > 1) + sum(n - 1 for n in acked_keys.values() if n > 1)
    ids_match = {tuple(a) for a in acked} <= set(stored)
    server_errors = sum(n for (_, code), n in statuses.items() if code >= 500)
    expected = {("session", 200), ("next", 200), ("audio", 200), ("answer", 201), ("double", 409)}
    unexpected = {f"{kind} {code}": n for (kind, code), n in statuses.items() if (kind, code) not in expected}
    outage = [e for at, e in results["errors"] if restart["killed_at"] <= at <= restart["ready_at"] + 1]
    other_errors = [e for at, e in results["errors"] if not restart["killed_at"] <= at <= restart["ready_at"] + 1]
    all_ms = np.array([ms for _, ms in results["latencies"]])
    answer_ms = np.array([ms for kind, ms in results["latencies"] if kind == "answer"])
    p50, p95, p99 = np.percentile(all_ms, [50, 95, 99])
    a50, a95 = np.percentile(answer_ms, [50, 95])
    elapsed = results["elapsed"]
    print(
        f"annotate load check: {args.annotators} invited annotators for {elapsed:.1f} s on loopback, one uvicorn "
        "process, "
        f"SQLite WAL; kill -9 and restart at {args.seconds / 2:.0f} s"
    )
    print(
        f"requests {len(all_ms)} ({len(all_ms) / elapsed:.0f}/s): "
        + ", ".join(f"{kind} {code}: {n}" for (kind, code), n in sorted(statuses.items()))
    )
    print(
        f"answers acknowledged {len(acked)} ({len(acked) / elapsed:.1f}/s), stored {len(stored)}, "
        f"double submits refused {statuses[('double', 409)]}"
    )
    print(
        f"restart after kill -9: port bound after {restart['bound_s']:.2f} s, "
        f"first 200 after {restart['answered_s']:.2f} s; "
        f"requests failed during the outage {len(outage)}"
    )
    print(
        f"latency all requests: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; "
        f"answer POST: p50 {a50:.1f} ms, p95 {a95:.1f} ms"
    )
    print(
        f"lost {lost}, duplicated {duplicated}, 5xx {server_errors}, stored without acknowledgement "
        f"{sum((stored_keys - acked_keys).values())}, other client errors {len(other_errors)}, "
        f"unexpected statuses {unexpected or 0}, server alive {results['alive']}"
    )
    for error in other_errors[:5]:
        print("  error:", error)
    return (
        lost == 0
        and duplicated == 0
        and server_errors == 0
        and ids_match
        and not unexpected
        and not other_errors
        and results["alive"]
        and len(acked) > 0
        and restart["bound_s"] < 2
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="example: benchmarks/bench_annotate_load.py --seconds 60 --annotators 20",
    )
    parser.add_argument(
        "--seconds", type=float, default=60, help="how long the annotators submit (default: %(default)s)"
    )
    parser.add_argument("--quick", action="store_true", help="10 seconds instead")
    parser.add_argument("--annotators", type=int, default=20, help="simulated annotators (default: %(default)s)")
    parser.add_argument(
        "--pairs",
        type=int,
        default=3000,
        help="pairs in the study, each annotator may judge all (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    args.seconds = 10 if args.quick else args.seconds
    if args.quick:
        print(
            "quick: 10 s, not 60 s, at the same load: about a sixth of the requests, so the p95 is noisier than the "
            "full run's and the restart's outage is a larger share of the run"
        )

    with tempfile.TemporaryDirectory(prefix="annotate-load-") as tmp:
        folder = Path(tmp)
        server = ServerProcess(folder, *make_study(folder, args.pairs, args.annotators))
        server.start()
        try:
            tokens = server.invite([f"sim{i:02d}" for i in range(args.annotators)])
            results = run_load(server, tokens, args.seconds)
        finally:
            server.kill()
        ok = report(args, results, stored_answers(server.db, tokens))
        p95 = np.percentile([ms for _, ms in results["latencies"]], 95)
        print(
            f"SUMMARY {'PASS' if ok else 'FAIL'}: 0 lost, 0 duplicated, 0 5xx and a restart bound within 2 s required"
        )
        print(f"P95_MS {p95:.1f}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
