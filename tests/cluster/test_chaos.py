"""Two web instances and two workers on one PostgreSQL and Redis, under load, with faults (issue 13 §8).

The topology of `compose.yaml` as plain processes: two `portal serve` (separate data
directories, so they share no disk), two `portal worker`, an aiosmtpd sink. For
`CLUSTER_SECONDS` (default 60) threads register enterprises, start and save drafts, fire review
events from both instances at the same cases, ask the bank API, a `portal screen db: --notify`
runs, and a supervisor starts a screening run of the register from the web page (a procrastinate
job, so a worker may die under it). Half-way one web instance and one worker are killed with
SIGKILL. Afterwards the survivors finish the work and the test checks what must hold: each
e-mail once, every job finished, the web screening run succeeded, no case moved twice, the bank
limit shared, a logout seen by both instances, an upload on one instance served by the other,
and `portal audit verify`.

Every wait is bounded by a count of polls; nothing is timed. The figures are printed (`-s`).
"""

from __future__ import annotations

import itertools
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text
from sqlmodel import select
from stdnum.cn import uscc

from portal.db.tables import Notification
from portal.demo.seed import DEMO_PASSWORD
from portal.services.context import Portal
from portal.services.notifications import _recipients
from portal.settings import Settings
from tests.support.smtp_sink import Sink, free_port, running_sink

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PORTAL = str(Path(sys.executable).parent / "portal")
SECONDS = float(os.environ.get("CLUSTER_SECONDS", "60"))
BANK_LIMIT = 20  # per minute per key: low, so the load crosses it many times over
REDIS_URL = "redis://127.0.0.1:6379/13"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Cluster:
    """The processes, their environment, and the figures the load collected."""

    url: str
    env: dict[str, str]
    tmp: Path
    ports: list[int] = field(default_factory=list)
    web: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    alive: list[bool] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, *args: str) -> str:
        done = subprocess.run([PORTAL, *args], env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"portal {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def start_web(self, n: int) -> None:
        for i in range(n):
            port = free_port()
            env = {**self.env, "PORTAL_DATA_DIR": str(self.tmp / f"web{i}")}
            log = (self.tmp / f"web{i}.log").open("wb")
            self.web.append(
                subprocess.Popen([PORTAL, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
            )
            self.ports.append(port)
            self.alive.append(True)
        for port in self.ports:
            for _ in range(600):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            else:
                raise AssertionError(f"portal serve on {port} never became ready")

    def start_workers(self, n: int) -> None:
        for i in range(n):
            log = (self.tmp / f"worker{i}.log").open("wb")
            self.workers.append(subprocess.Popen([PORTAL, "worker"], env=self.env, stdout=log, stderr=log))

    def base(self, preferred: int) -> str:
        """The preferred instance while it lives, else a live one (a load balancer's failover)."""
        order = [preferred % len(self.ports), *range(len(self.ports))]
        index = next(i for i in order if self.alive[i])
        return f"http://127.0.0.1:{self.ports[index]}"

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def stop(self) -> None:
        for process in [*self.web, *self.workers]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.web, *self.workers]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def cluster(databases, tmp_path: Path) -> Iterator[tuple[Cluster, Sink]]:  # type: ignore[no-untyped-def]
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    url = databases.migrated("postgres")
    with running_sink() as (sink, smtp_port):
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PORTAL_SECRET_KEY": "cluster-test-secret-key-0123456789abcdef",
            "PORTAL_REDIS_URL": REDIS_URL,
            "PORTAL_SMTP_HOST": "127.0.0.1",
            "PORTAL_SMTP_PORT": str(smtp_port),
            "PORTAL_BANK_RATE_LIMIT": str(BANK_LIMIT),
            "PORTAL_LOGIN_IP_RATE_LIMIT": "10000",
            "PORTAL_DATA_DIR": str(tmp_path / "cli"),
        }
        env.pop("PORTAL_JOBS", None)
        cluster = Cluster(url, env, tmp_path)
        try:
            yield cluster, sink
        finally:
            cluster.stop()
            databases.drop(url)


def _signed_in(client: httpx.Client, base: str, username: str) -> str:
    """Sign in through the login form; returns the CSRF token for API calls."""
    token = _CSRF.search(client.get(f"{base}/login").text)
    assert token is not None
    answer = client.post(
        f"{base}/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code in (200, 303), answer.text[:300]
    return str(client.get(f"{base}/api/v1/session").json()["csrf_token"])


def _loop(cluster: Cluster, stop: threading.Event, name: str, body: Callable[[int], None]) -> None:
    """Run `body` until told to stop; a dropped connection (the killed instance) is counted."""
    for n in itertools.count():
        if stop.is_set():
            return
        try:
            body(n)
        except httpx.TransportError:
            cluster.count(f"{name}: connection lost")


def _reviewer(cluster: Cluster, stop: threading.Event, username: str, instance: int) -> None:
    client = httpx.Client(timeout=30)
    token = _signed_in(client, cluster.base(instance), username)
    rng = random.Random(username)

    def step(n: int) -> None:
        base = cluster.base(instance + n)
        cases = client.get(f"{base}/api/v1/applications").json()["applications"]
        if not cases:
            return
        case = rng.choice(cases[:8])  # few cases, so both instances race for the same ones
        detail = client.get(f"{base}/api/v1/applications/{case['id']}").json()
        events = [e for e in detail.get("allowed_events", []) if "return" not in e]
        if not events:
            return
        answer = client.post(
            f"{base}/api/v1/applications/{case['id']}/transitions",
            json={"event": rng.choice(events), "expected_version": detail["version"], "comment": "集群测试"},
            headers={"X-CSRF-Token": token},
        )
        cluster.count(f"transition {answer.status_code}")

    _loop(cluster, stop, "reviewer", step)


def _enterprise(cluster: Cluster, stop: threading.Event, username: str, measure: str) -> None:
    client = httpx.Client(timeout=30)
    token = _signed_in(client, cluster.base(1), username)

    def step(n: int) -> None:
        base = cluster.base(n)
        made = client.post(
            f"{base}/api/v1/applications", json={"measure_id": measure}, headers={"X-CSRF-Token": token}
        )
        cluster.count(f"draft {made.status_code}")
        if made.status_code == 201:
            draft = made.json()
            saved = client.put(
                f"{base}/api/v1/applications/{draft['id']}/answers",
                json={"answers": {}, "expected_version": draft["version"]},
                headers={"X-CSRF-Token": token},
            )
            cluster.count(f"answers {saved.status_code}")

    _loop(cluster, stop, "enterprise", step)


def _registrations(cluster: Cluster, stop: threading.Event) -> None:
    def step(n: int) -> None:
        client = httpx.Client(timeout=30)
        base = cluster.base(n)
        token = _CSRF.search(client.get(f"{base}/register").text)
        assert token is not None
        body = f"91440101MA{n:07d}"[:17]
        answer = client.post(
            f"{base}/register",
            data={
                "csrf_token": token.group(1),
                "uscc": body + uscc.calc_check_digit(body),
                "name": f"集群测试企业{n}有限公司",
                "district": "tianhe",
                "username": f"cluster_{n}",
                "display_name": f"联系人{n}",
                "password": "Cluster-Test-Passphrase-2026",
                "password2": "Cluster-Test-Passphrase-2026",
                "email": f"cluster{n}@example.test",
            },
        )
        cluster.count(f"register {answer.status_code}")

    _loop(cluster, stop, "register", step)


def _bank(cluster: Cluster, stop: threading.Event, key: str, accepted: list[int]) -> None:
    client = httpx.Client(timeout=30, headers={"Authorization": f"Bearer {key}"})
    body = "91440101MA5CXXXX0"
    request = {
        "uscc": body + uscc.calc_check_digit(body),
        "product": "credit_risk_compensation",
        "loan": {"amount": "1000000"},
    }

    def step(n: int) -> None:
        answer = client.post(f"{cluster.base(n)}/api/v1/bank/eligibility", json=request)
        cluster.count(f"bank {answer.status_code}")
        if answer.status_code != 429:
            with cluster.lock:
                accepted.append(answer.status_code)
        if answer.status_code >= 500:
            raise AssertionError(answer.text)

    _loop(cluster, stop, "bank", step)


def _session_ends_everywhere(cluster: Cluster) -> None:
    """A session signed in on A works on B; signed out on A, its saved cookie fails on B."""
    a, b = cluster.base(0), cluster.base(1)
    client = httpx.Client(timeout=30)
    token = _signed_in(client, a, "tianhe_reviewer")
    saved = dict(client.cookies)
    assert httpx.get(f"{b}/api/v1/session", cookies=saved).status_code == 200
    assert client.post(f"{a}/logout", data={"csrf_token": token}).status_code == 303
    assert httpx.get(f"{b}/api/v1/session", cookies=saved).status_code == 401


def _upload_on_a_download_on_b(cluster: Cluster) -> None:
    """An objection's file lodged on A is downloaded by staff on B (no shared disk)."""
    portal = Portal.from_settings(Settings(DATABASE_URL=cluster.url))
    with portal.reading() as session:
        rows = session.execute(text("SELECT id, workflow, state, lead_unit FROM application")).all()
    notice = next(r for r in rows if portal.workflows[r.workflow].state(r.state).kind == "notice")
    with portal.engine.connect() as connection:
        staff = connection.execute(
            text("SELECT username FROM user_account WHERE role = 'reviewer' AND bureau = :b"),
            {"b": notice.lead_unit},
        ).scalar_one()
    a, b = cluster.base(0), cluster.base(1)
    public = httpx.Client(timeout=30)
    token = _CSRF.search(public.get(f"{a}/notices/{notice.id}").text)
    assert token is not None
    lodged = public.post(
        f"{a}/notices/{notice.id}/objection",
        data={
            "csrf_token": token.group(1),
            "name": "张三",
            "contact": "13800000000",
            "reasons": "集群测试异议",
        },
        files={"file": ("证据.pdf", PDF, "application/pdf")},
    )
    assert lodged.status_code in (200, 303), lodged.text[:300]
    with portal.engine.connect() as connection:
        objection = connection.execute(
            text("SELECT max(id) FROM objection WHERE application_id = :a"), {"a": notice.id}
        ).scalar_one()
    portal.engine.dispose()
    staff_client = httpx.Client(timeout=30)
    _signed_in(staff_client, b, staff)
    download = staff_client.get(f"{b}/review/{notice.id}/objections/{objection}/file")
    assert download.status_code == 200 and download.content == PDF


def _start_web_screening(cluster: Cluster) -> tuple[httpx.Client, int]:
    """A city supervisor screens the whole register, with notices, from /screening on instance B."""
    client = httpx.Client(timeout=30)
    base = cluster.base(1)
    _signed_in(client, base, "supervisor")
    token = _CSRF.search(client.get(f"{base}/screening").text)
    assert token is not None
    started = client.post(
        f"{base}/screening",
        data={"csrf_token": token.group(1), "source": "register", "notify": "on"},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text[:300]
    run_id = re.search(r"/screening/(\d+)$", started.headers["location"])
    assert run_id is not None
    return client, int(run_id.group(1))


def _web_screening_outcome(cluster: Cluster, client: httpx.Client, run_id: int) -> dict[str, object]:
    """The run as its page's script sees it, once finished (the survivors run what the dead left)."""
    progress: dict[str, object] = {}
    for _ in range(400):
        progress = client.get(f"{cluster.base(1)}/screening/{run_id}.json").json()
        if progress["finished"]:
            break
        time.sleep(0.5)
    return progress


def _settled(cluster: Cluster) -> tuple[int, int]:
    """(unfinished jobs, unsent messages) as the database sees them."""
    engine = create_engine(cluster.url)
    with engine.connect() as connection:
        jobs = connection.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE status::text IN ('todo', 'doing')")
        ).scalar_one()
        mail = connection.execute(
            text("SELECT count(*) FROM notification WHERE emailed_at IS NULL AND email_failed_at IS NULL")
        ).scalar_one()
    engine.dispose()
    return int(jobs), int(mail)


def _unfinished(cluster: Cluster) -> str:
    """What is left, for the failure message: the jobs, the messages and the workers' last words."""
    engine = create_engine(cluster.url)
    with engine.connect() as connection:
        jobs = connection.execute(
            text(
                "SELECT id, task_name, status::text, attempts, worker_id, scheduled_at, args::text "
                "FROM procrastinate_jobs WHERE status::text IN ('todo', 'doing')"
            )
        ).all()
        mail = connection.execute(
            text(
                "SELECT id, email_attempts, email_error, email_claimed_until FROM notification "
                "WHERE emailed_at IS NULL AND email_failed_at IS NULL"
            )
        ).all()
    engine.dispose()
    logs = "".join((cluster.tmp / f"worker{i}.log").read_text()[-1500:] for i in range(len(cluster.workers)))
    return f"jobs {jobs}\nmessages {mail}\nworker logs:\n{logs}"


def test_two_instances_and_two_workers_survive_load_and_kills(cluster: tuple[Cluster, Sink]) -> None:
    c, sink = cluster
    c.run("demo", "seed")
    c.run("banks", "add", "集群测试银行", "--code", "clusterbank")
    key = c.run("banks", "key", "clusterbank", "--scopes", "eligibility:read").strip().splitlines()[-1]
    c.start_web(2)
    c.start_workers(2)

    _session_ends_everywhere(c)
    _upload_on_a_download_on_b(c)

    stop = threading.Event()
    accepted: list[int] = []
    threads = [
        threading.Thread(target=_reviewer, args=(c, stop, "tianhe_reviewer", 0)),
        threading.Thread(target=_reviewer, args=(c, stop, "tianhe_reviewer", 1)),
        threading.Thread(target=_reviewer, args=(c, stop, "bureau_reviewer", 0)),
        threading.Thread(target=_reviewer, args=(c, stop, "bureau_reviewer", 1)),
        threading.Thread(target=_registrations, args=(c, stop)),
        threading.Thread(target=_enterprise, args=(c, stop, "zhizao", "subsidy.model_filing")),
        threading.Thread(target=_bank, args=(c, stop, key, accepted)),
    ]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    screener, run_id = _start_web_screening(c)
    screening = subprocess.Popen(
        [PORTAL, "screen", "db:", "--out", str(c.tmp / "screen.csv"), "--notify"],
        env=c.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    stop.wait(SECONDS / 2)
    # The faults: one web instance and one worker, without warning.
    c.alive[0] = False
    c.web[0].kill()
    c.workers[0].kill()
    stop.wait(max(0.0, SECONDS - (time.monotonic() - started)))
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    output, _ = screening.communicate(timeout=300)
    assert screening.returncode == 0, output.decode()

    # The survivors finish: stalled jobs of the killed worker are requeued, the outbox drains.
    for _ in range(400):
        if _settled(c) == (0, 0):
            break
        time.sleep(0.5)
    assert _settled(c) == (0, 0), _unfinished(c)
    web_run = _web_screening_outcome(c, screener, run_id)
    assert web_run["status"] == "succeeded" and web_run["rows_done"], web_run

    # Every job finished.
    engine = create_engine(c.url)
    with engine.connect() as connection:
        statuses = Counter(
            dict(
                connection.execute(
                    text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1")
                ).all()
            )
        )
        transitions = connection.execute(
            text("SELECT application_id, from_state, to_state FROM transition ORDER BY application_id, id")
        ).all()
        states: dict[int, str] = dict(connection.execute(text("SELECT id, state FROM application")).all())
    engine.dispose()
    # A dead worker's job is requeued, or ended ("aborted") where a copy was queued meanwhile.
    assert set(statuses) <= {"succeeded", "aborted"} and statuses["aborted"] <= 2, statuses

    # No case moved twice: each case's history is one unbroken chain ending in its state.
    for application_id, moves in itertools.groupby(transitions, key=lambda t: t.application_id):
        history = list(moves)
        for before, after in itertools.pairwise(history):
            assert after.from_state == before.to_state, (application_id, before, after)
        assert history[-1].to_state == states[application_id]

    # Every notification's e-mail arrived, once per recipient address.
    portal = Portal.from_settings(Settings(DATABASE_URL=c.url))
    with portal.reading() as session:
        expected = {
            f"<notification-{note.id}.{i}@portal.invalid>"
            for note in session.exec(select(Notification)).all()
            for i, _ in enumerate(_recipients(session, note))
        }
    portal.engine.dispose()
    received = sink.message_ids()
    assert expected and set(received) == expected, set(received) ^ expected
    duplicates = sum(n - 1 for n in received.values())

    # The bank limit is one window for both instances (Redis, moving window of a minute).
    assert len(accepted) <= BANK_LIMIT, (len(accepted), c.counts)
    assert c.counts["bank 429"] > 0
    assert not any(k.endswith(" 500") or k.endswith(" 502") for k in c.counts), c.counts

    verify = subprocess.run(
        [PORTAL, "audit", "verify"], env=c.env, capture_output=True, text=True, timeout=300
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr

    print(
        f"\ncluster: {SECONDS:.0f} s, requests {dict(sorted(c.counts.items()))}, "
        f"jobs {dict(statuses)}, e-mails {len(expected)} distinct, {duplicates} resent after the kill, "
        f"bank accepted {len(accepted)} of limit {BANK_LIMIT}/min, "
        f"web screening run {web_run['rows_done']} rows"
    )
