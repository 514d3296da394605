"""`speechnb annotate serve` as a real uvicorn process on loopback, driven over HTTP (httpx).

Access control end to end (no token: 401 and nothing stored; with it: everything works), a restart
right after `kill -9` while the dead server's connections sit in TIME_WAIT (every acknowledged answer
kept, sessions still valid), a clean stop that leaves every answer in the `.sqlite` file alone, and
the IPv6 start-up line. The browser tests (tests/test_annotate_browser.py) reuse `Server` from here.
"""

import errno
import json
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEECHNB = Path(sys.executable).parent / "speechnb"

# Pair ids that would break a URL (/ # ? % and a space); the browser tests plan their answers on these.
PAIRS = [
    {
        "pair_id": "egg/boil#1",
        "prompt_id": "q-egg",
        "prompt": "How long should I boil an egg?",
        "response_a": "About eight minutes for a firm yolk, then cool it in cold water.",
        "response_b": "1) Boil water (100 C). 2) Add egg. 3) Wait 8-10 min. 4) Cool -> peel.",
        "config_a": "detailed",
        "config_b": "base",
        "split": "train",
    },
    {
        "pair_id": "kenya?capital=%4E",
        "prompt_id": "q-kenya",
        "prompt": "What is the capital of Kenya?",
        "chosen": "Nairobi (see https://en.wikipedia.org/wiki/Nairobi).",
        "rejected": "The capital of Kenya is Nairobi.",
        "chosen_config": "base",
        "rejected_config": "icl",
        "split": "test",
    },
    {
        "pair_id": "sky 100%",
        "prompt_id": "q-sky",
        "prompt": "Why is the sky blue?",
        "response_a": "Sunlight scatters off air, and blue light scatters the most.",
        "response_b": "Air scatters blue sunlight more than red, so the sky looks blue.",
        "config_a": "base",
        "config_b": "detailed",
        "split": "validation",
    },
    {
        "pair_id": "check",
        "prompt": "Name a yellow fruit.",
        "response_a": "A banana is a yellow fruit.",
        "response_b": "Fruit fruit fruit fruit.",
        "attention_check": True,
        "expected": "a",
    },
]


def write_study(folder: Path, pairs=PAIRS, settings: str = "annotators_per_pair: 2\n") -> tuple[Path, Path]:
    "A pairs file and a study config in `folder`."
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    (folder / "study.yaml").write_text("name: server test\n" + settings)
    return folder / "pairs.jsonl", folder / "study.yaml"


class Server:
    "One `speechnb annotate serve` process, its start-up lines read back (address, owner link)."

    def __init__(self, folder: Path, pairs: Path | None, config: Path | None, port: int = 0, host: str = "127.0.0.1"):
        self.folder, self.db = folder, folder / "annotations.sqlite"
        options = {"--db": self.db, "--host": host, "--port": port, "--speech-cache": folder / "speech"}
        self.command = [str(SPEECHNB), "annotate", "serve", *(str(w) for pair in options.items() for w in pair)]
        self.command += ["--pairs", str(pairs)] * (pairs is not None) + ["--config", str(config)] * (config is not None)
        self.process, self.base, self.owner_token, self.started_at = None, None, None, None

    def start(self, timeout: float = 60) -> "Server":
        self.log = self.folder / f"server-{time.time_ns()}.log"
        self.started_at = time.perf_counter()
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while not (found := re.search(r" at (http://\S+/) ", self.log.read_text())):
            if self.process.poll() is not None or time.time() > deadline:
                raise AssertionError("server did not start:\n" + self.log.read_text())
            time.sleep(0.05)
        self.base = found[1].rstrip("/")
        owner = re.search(r"start#(\S+)", self.log.read_text())
        self.owner_token = owner[1] if owner else self.owner_token
        return self

    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def invite(self, *names: str) -> dict[str, str]:
        "name -> token, through `speechnb annotate invite`."
        done = subprocess.run(
            [str(SPEECHNB), "annotate", "invite", "--db", str(self.db), *names],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return {name: link.split("#", 1)[1] for name, link in (line.split() for line in done.stdout.splitlines())}

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        "A clean stop (SIGTERM, as systemd sends); returns the exit status."
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


@pytest.fixture
def server(tmp_path):
    pairs, config = write_study(tmp_path)
    running = Server(tmp_path, pairs, config).start()
    try:
        yield running
    finally:
        running.close()


def count_answers(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT COUNT(*) FROM answers").fetchone()[0]


def sign_in(base: str, token: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    response = client.post("/api/session", json={"token": token})
    assert response.status_code == 200, response.text
    return client


def answer_current(client: httpx.Client) -> httpx.Response:
    item = client.get("/api/next").json()
    assert not item["done"]
    return client.post(
        "/api/answers",
        json={"item": item["item"], "choice": "A", "strength": "better", "played": ["A", "B"], "comment": "heard both"},
    )


def test_without_the_token_nothing_works_and_nothing_is_stored(server):
    tokens = server.invite("alice", "bob")
    with httpx.Client(base_url=server.base, timeout=30) as outsider:
        outsider.cookies.set("speechnb_annotator", "not-a-real-token-but-long-enough")
        attempts = {
            "next": outsider.get("/api/next"),
            "page": outsider.get("/annotate"),
            "audio": outsider.get("/audio/0/A.wav"),
            "answer": outsider.post("/api/answers", json={"item": 0, "choice": "A", "strength": "better"}),
            "results": outsider.get("/results"),
            "stats": outsider.get("/api/stats"),
            "sign-in": outsider.post("/api/session", json={"token": tokens["alice"][::-1]}),
            "name in the URL (old API)": outsider.get("/annotate/alice"),
            "query (old API)": outsider.get("/api/next?annotator=alice"),
        }
        assert {what: r.status_code for what, r in attempts.items()} == {
            **{what: 401 for what in attempts},
            "name in the URL (old API)": 404,
            "query (old API)": 401,
        }
    with sqlite3.connect(server.db) as con:
        assert [
            con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("annotators", "assignments", "answers")
        ] == [0, 0, 0]

    alice = sign_in(server.base, tokens["alice"])
    assert answer_current(alice).status_code == 201 and count_answers(server.db) == 1
    assert alice.get("/api/stats").status_code == 403 and alice.get("/results").status_code == 403
    stats = httpx.get(server.base + "/api/stats", headers={"authorization": f"Bearer {server.owner_token}"}).json()
    assert stats["judgements"] == 1 and [r["annotator"] for r in stats["per_annotator"]] == ["alice"]
    assert (
        "Invalid host"
        in httpx.get(server.base + "/api/next", headers={"host": "rebind.example"}, cookies=alice.cookies).text
    )


def test_restart_right_after_kill_9_binds_and_keeps_every_acknowledged_answer(server):
    tokens = server.invite("alice", "bob")
    clients = [sign_in(server.base, tokens[name]) for name in ("alice", "bob")]
    acknowledged = [answer_current(client).status_code for client in clients for _ in range(2)]
    assert acknowledged == [201] * 4
    port = server.port()
    server.kill()  # a crash, with both clients' keep-alive connections open
    for client in clients:
        client.close()  # our side closes too: the dead server's side is left in TIME_WAIT
    export = server.folder / "after-crash.jsonl"  # export reads the crashed study (WAL and all) without changing it
    done = subprocess.run(
        [str(SPEECHNB), "annotate", "export", "--db", str(server.db), "--output", str(export), "--per-judgement"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and len(export.read_text().splitlines()) == 4, done.stderr
    plain = socket.socket()
    try:  # the condition the fix is for: a bind without SO_REUSEADDR is refused now
        with pytest.raises(OSError) as refused:
            plain.bind(("127.0.0.1", port))
        assert refused.value.errno == errno.EADDRINUSE
    finally:
        plain.close()
    server.command[server.command.index("--port") + 1] = str(port)
    server.start()  # same port at once
    assert server.port() == port and count_answers(server.db) == 4
    alice = httpx.Client(base_url=server.base, timeout=30, cookies=clients[0].cookies)
    assert (
        alice.get("/api/next").json()["answered"] == 2 and answer_current(alice).status_code == 201
    )  # the session survives
    second = subprocess.run(server.command, capture_output=True, text=True, timeout=60, check=False)  # a second server
    assert second.returncode == 2 and "Address already in use" in second.stderr and "Traceback" not in second.stderr


def test_clean_stop_leaves_every_answer_in_the_sqlite_file(server, tmp_path):
    alice = sign_in(server.base, server.invite("alice")["alice"])
    assert [answer_current(alice).status_code for _ in range(2)] == [201, 201]
    running_copy = tmp_path / "copy-while-running.sqlite"
    shutil.copy(server.db, running_copy)  # only the main file: the answers are still in the WAL
    assert count_answers(running_copy) == 0
    assert server.stop() == -signal.SIGTERM  # uvicorn shuts down cleanly, then ends as SIGTERM asks
    stopped_copy = tmp_path / "copy-after-stop.sqlite"
    shutil.copy(server.db, stopped_copy)
    assert count_answers(stopped_copy) == 2
    assert not Path(f"{server.db}-wal").exists() or Path(f"{server.db}-wal").stat().st_size == 0


def test_ipv6_loopback_start_line_and_host_check(tmp_path):
    pairs, config = write_study(tmp_path)
    running = Server(tmp_path, pairs, config, host="::1").start()
    try:
        assert re.fullmatch(r"http://\[::1\]:\d+", running.base), running.base
        assert httpx.get(running.base + "/", timeout=30).status_code == 200  # Host: [::1]:port is a loopback name
    finally:
        running.close()
