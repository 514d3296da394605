"""Load check of `speechnb annotate serve`: N concurrent simulated annotators on loopback for a while.

Each simulated annotator loops: GET /api/next, GET the A and B audio, POST its answer; one answer in ten
is sent twice on purpose (a double click) and must get 409. Afterwards the answers the server stored are
compared with the 201 acknowledgements the clients received: zero lost, zero duplicated. The server is
stopped with SIGKILL (a crash) before its database is read, so "not lost" means "on disk".

    .venv/bin/python benchmarks/bench_annotate_load.py --seconds 60      # the issue's check
    .venv/bin/python benchmarks/bench_annotate_load.py --quick           # 10 s

Traffic goes only to 127.0.0.1 (a server this script starts and stops); the loops are bounded in time.
Latencies are measured by the clients, which share the machine's cores with the server.
The last line is `P95_MS <p95 of all requests in ms>`; the exit status is 1 if anything was lost,
duplicated or answered with an unexpected status.
"""
from __future__ import annotations

import argparse
import json
import random
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_study(folder: Path, n_pairs: int, n_annotators: int) -> tuple[Path, Path]:
    "A pairs file whose answers all point at two small real WAV files, and a study where everyone judges everything."
    from speechnb.audio import save_wav, speak
    wav_a = save_wav(folder / "a.wav", speak("The capital of Kenya is Nairobi."))
    wav_b = save_wav(folder / "b.wav", speak("Nairobi, see the encyclopedia."))
    rows = [{"pair_id": f"p{i:05d}", "prompt": f"Question number {i}?", "response_a": f"Answer one to {i}.",
             "response_b": f"Answer two to {i}.", "audio_a": str(wav_a), "audio_b": str(wav_b), "prompt_audio": str(wav_a)}
            for i in range(n_pairs)]
    pairs = folder / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = folder / "study.yaml"
    config.write_text(f"name: load check\nannotators_per_pair: {n_annotators}\nseed: 1\n")
    return pairs, config


def annotator_loop(base: str, name: str, stop_at: float, rng: random.Random, results: dict, lock: threading.Lock) -> None:
    acked, latencies, statuses, errors = [], [], Counter(), []
    with httpx.Client(base_url=base, timeout=30) as client:
        def call(kind, method, url, **kwargs):
            start = time.perf_counter()
            try:
                response = client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                errors.append(f"{kind}: {exc!r}")
                return None
            latencies.append((kind, 1000 * (time.perf_counter() - start)))
            statuses[(kind, response.status_code)] += 1
            return response

        while time.time() < stop_at:
            response = call("next", "GET", "/api/next", params={"annotator": name})
            if response is None or response.status_code != 200:
                continue
            item = response.json()
            if item["done"]:
                break
            for side in ("A", "B"):
                audio = call("audio", "GET", item["audio"][side])
                if audio is not None and (audio.headers.get("content-type") != "audio/wav" or audio.content[:4] != b"RIFF"):
                    errors.append("audio: not a WAV")
            choice = rng.choice(["A", "B", "tie"])
            body = {"annotator": name, "pair_id": item["pair_id"], "choice": choice,
                    "strength": "tie" if choice == "tie" else rng.choice(["much better", "better", "slightly better"]),
                    "reasons": rng.sample(["concise", "helpful", "sayable"], k=rng.randint(0, 2)),
                    "comment": "", "elapsed_ms": rng.randint(500, 9000), "played": ["A", "B"]}
            answer = call("answer", "POST", "/api/answers", json=body)
            if answer is not None and answer.status_code == 201:
                acked.append((name, item["pair_id"], answer.json()["answer_id"]))
            if rng.random() < 0.1:      # a double click: must be refused
                call("double", "POST", "/api/answers", json=body)
    with lock:
        results["acked"] += acked
        results["latencies"] += latencies
        results["statuses"].update(statuses)
        results["errors"] += errors


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the annotators submit")
    parser.add_argument("--quick", action="store_true", help="10 seconds")
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=3000, help="pairs in the study (each annotator may judge all)")
    args = parser.parse_args(argv)
    seconds = 10 if args.quick else args.seconds

    with tempfile.TemporaryDirectory(prefix="annotate-load-") as tmp:
        folder = Path(tmp)
        pairs, config = make_study(folder, args.pairs, args.annotators)
        db = folder / "annotations.sqlite"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(folder / "server.log", "w")
        server = subprocess.Popen([str(SPEECHNB), "annotate", "serve", "--db", str(db), "--pairs", str(pairs), "--config",
                                   str(config), "--port", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 60
            while True:
                try:
                    if httpx.get(base + "/", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.time() > deadline:
                    print((folder / "server.log").read_text(), file=sys.stderr)
                    raise SystemExit("the server did not start")
                time.sleep(0.2)

            results = {"acked": [], "latencies": [], "statuses": Counter(), "errors": []}
            lock = threading.Lock()
            stop_at = time.time() + seconds
            threads = [threading.Thread(target=annotator_loop, args=(base, f"sim{i:02d}", stop_at, random.Random(i), results, lock))
                       for i in range(args.annotators)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            alive = server.poll() is None
        finally:
            server.kill()   # SIGKILL, a crash: whatever was acknowledged must already be on disk
            server.wait()
            log.close()

        # Server side, read after the server was killed: what is really on disk.
        with sqlite3.connect(db) as con:
            stored = con.execute("SELECT annotator, pair_id, answer_id FROM answers").fetchall()
        acked = results["acked"]
        acked_keys = Counter((a, p) for a, p, _ in acked)
        stored_keys = Counter((a, p) for a, p, _ in stored)
        lost = sum((acked_keys - stored_keys).values())
        duplicated = sum(n - 1 for n in stored_keys.values() if n > 1) + sum(n - 1 for n in acked_keys.values() if n > 1)
        unacknowledged = sum((stored_keys - acked_keys).values())   # saved, but the client never heard back
        ids_match = {(a, p, i) for a, p, i in acked} <= set(stored)
        statuses = results["statuses"]
        unexpected = {f"{kind} {code}": n for (kind, code), n in statuses.items()
                      if not ((kind in ("next", "audio") and code == 200) or (kind == "answer" and code == 201)
                              or (kind == "double" and code == 409))}
        all_ms = np.array([ms for _, ms in results["latencies"]])
        answer_ms = np.array([ms for kind, ms in results["latencies"] if kind == "answer"])
        p50, p95, p99 = np.percentile(all_ms, [50, 95, 99])
        a50, a95 = np.percentile(answer_ms, [50, 95])

        print(f"annotate load check: {args.annotators} annotators for {elapsed:.1f} s on loopback, one uvicorn process, SQLite WAL")
        print(f"requests {len(all_ms)} ({len(all_ms) / elapsed:.0f}/s): " +
              ", ".join(f"{kind} {code}: {n}" for (kind, code), n in sorted(statuses.items())))
        print(f"answers acknowledged {len(acked)} ({len(acked) / elapsed:.1f}/s), stored {len(stored)}, "
              f"double submits refused {statuses[('double', 409)]}")
        print(f"latency all requests: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; "
              f"answer POST: p50 {a50:.1f} ms, p95 {a95:.1f} ms")
        print(f"lost {lost}, duplicated {duplicated}, stored without acknowledgement {unacknowledged}, "
              f"client errors {len(results['errors'])}, unexpected statuses {unexpected or 0}, server alive {alive}")
        for error in results["errors"][:5]:
            print("  error:", error)
        ok = lost == 0 and duplicated == 0 and ids_match and not unexpected and not results["errors"] and alive and len(acked) > 0
        print(f"SUMMARY {'PASS' if ok else 'FAIL'}: {len(acked)} answers, 0 lost and 0 duplicated required "
              f"(lost {lost}, duplicated {duplicated}), p95 {p95:.1f} ms")
        print(f"P95_MS {p95:.1f}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
