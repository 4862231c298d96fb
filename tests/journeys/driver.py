"""Drives one case through the live portal over real HTTP, step by step, as each party would.

The steps come from `tests/support/workflow_paths.py`; what a party does for a step is read
from the step's structure (who fires it, which guards it carries, what kind of state it leaves),
never from its name:

- the enterprise submits through the application form (answers and attachments), resubmits
  through the same form, and withdraws through the JSON API;
- staff fire every other event through the JSON API, with reasons where the event needs them;
- at the expert stage the bureau assigns a panel and each expert declares and scores through
  the expert pages; the panel reaching the pass mark moves the case by itself;
- a timed system event (the end of a public notice) happens when the pinned clock passes the
  window and the SLA sweep runs;
- an objection is lodged before a reviewer decides one.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from portal.city import City, split_fact
from portal.forms import FormSpec
from portal.services.context import Portal
from portal.workflows import Workflow
from tests.journeys.packs import PackUnderTest
from tests.support.rubrics import case_rubric
from tests.support.workflow_paths import (
    Journey,
    Step,
    is_expert_stage,
    is_objection_decision,
    is_unfavourable,
)

PASSWORD = "journey-password-1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 32
# One TLS context for every client: httpx builds one per client otherwise, loading the CA bundle
# each time (tens of ms), for a server the journeys reach over plain HTTP anyway.
_TLS = ssl.create_default_context()


def csrf_in(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None, html[:1500]
    return match.group(1)


class User:
    """One signed-in person: an httpx client with its own cookies, talking to the live server."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60, follow_redirects=False, verify=_TLS)
        self._api_token: str | None = None

    def close(self) -> None:
        self.http.close()

    def page(self, path: str) -> str:
        response = self.http.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:1500])
        return response.text

    def post_form(
        self, path: str, data: Mapping[str, Any], files: Any = None, token_from: str | None = None
    ) -> httpx.Response:
        token = csrf_in(self.page(token_from or path))
        return self.http.post(path, data={**data, "csrf_token": token}, files=files)

    def login(self, username: str, password: str = PASSWORD) -> None:
        response = self.post_form("/login", {"username": username, "password": password})
        assert response.status_code == 303, response.text[:1500]

    def api(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if self._api_token is None:
            self._api_token = str(self.http.get("/api/v1/session").json()["csrf_token"])
        response = self.http.request(
            method, f"/api/v1{path}", json=body, headers={"X-CSRF-Token": self._api_token}
        )
        assert response.status_code < 300, (method, path, response.status_code, response.text[:1500])
        result: dict[str, Any] = response.json()
        return result

    def api_status(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> int:
        if self._api_token is None:
            self._api_token = str(self.http.get("/api/v1/session").json()["csrf_token"])
        response = self.http.request(
            method, f"/api/v1{path}", json=body, headers={"X-CSRF-Token": self._api_token}
        )
        return response.status_code


# -- answers a form accepts, derived from its schema --------------------------------------------


def _filler(length: int) -> str:
    text = "本项目围绕人工智能产业落地开展研发与应用示范。"
    return (text * (length // len(text) + 1))[:length]


def matching(pattern: str) -> str:
    """The shortest plain string the regular expression matches (a phone, a patent number...)."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser

    categories = {c.CATEGORY_DIGIT: "0", c.CATEGORY_WORD: "a", c.CATEGORY_SPACE: " "}

    def one_of(items: Any) -> str:
        for op, value in items:
            if op is c.LITERAL:
                return chr(value)
            if op is c.RANGE:
                return chr(value[0])
            if op is c.CATEGORY and value in categories:
                return categories[value]
        raise AssertionError(f"cannot pick a character from {items} in {pattern!r}")

    def walk(parsed: Any) -> str:
        out = []
        for op, value in parsed:
            if op is c.LITERAL:
                out.append(chr(value))
            elif op is c.ANY:
                out.append("a")
            elif op is c.IN:
                out.append(one_of(value))
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                low, _, item = value
                out.append(walk(item) * low)
            elif op is c.SUBPATTERN:
                out.append(walk(value[-1]))
            elif op is c.BRANCH:
                out.append(walk(value[1][0]))
            elif op is c.CATEGORY:
                out.append(categories[value])
            elif op is not c.AT:
                raise AssertionError(f"cannot build a string for {op} in {pattern!r}")
        return "".join(out)

    built = walk(_parser.parse(pattern))
    assert re.search(pattern, built), (pattern, built)
    return built


_PATTERN_CANDIDATES = (
    "13800138000",
    "020-83001234",
    "2025-01-01",
    "A1234567",
    "110101199001011234",
    "GZ2025001",
    "ZL202310123456.7",  # a Chinese patent number (专利号)
)


def field_value(name: str, schema: Mapping[str, Any], widget: str) -> str:
    """A valid string for one field, as the form posts it."""
    if "const" in schema:
        value = schema["const"]
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    if "enum" in schema:
        return str(schema["enum"][0])
    kind = schema.get("type", "string")
    if kind == "boolean":
        return "true"
    if kind in ("integer", "number"):
        low = Decimal(str(schema.get("minimum", schema.get("exclusiveMinimum", 0))))
        value = max(low + (1 if "exclusiveMinimum" in schema else 0), Decimal(1))
        if "maximum" in schema:
            value = min(value, Decimal(str(schema["maximum"])))
        return str(value)
    fmt = schema.get("format")
    if fmt == "date" or widget == "date":
        return "2025-01-01"
    if fmt == "cn-uscc":
        from tests.web.portal_helpers import new_uscc

        return new_uscc()
    if fmt == "email":
        return "clerk@example.cn"
    pattern = schema.get("pattern")
    if pattern:
        for candidate in _PATTERN_CANDIDATES:
            if re.search(pattern, candidate):
                return candidate
        return matching(pattern)
    low = int(schema.get("minLength", 2))
    high = int(schema.get("maxLength", max(low, 40)))
    return _filler(max(low, min(high, 20)))


def _posted(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def form_answers(form: FormSpec, facts: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Every field of `form`: prefilled from `facts` where the form says so, else a valid value."""
    prefilled = form.prefill(facts)
    answers: dict[str, str] = {}
    for section in form.sections:
        for spec in section.fields:
            if spec.name in prefilled and prefilled[spec.name] is not None:
                answers[spec.name] = _posted(prefilled[spec.name])
            else:
                answers[spec.name] = field_value(spec.name, spec.schema, spec.widget)
    _order_dates(form, answers)
    return answers


def _order_dates(form: FormSpec, answers: dict[str, str]) -> None:
    """Date fields in form order get increasing dates, so a start never follows its end."""
    day = date(2025, 1, 1)
    for section in form.sections:
        for spec in section.fields:
            if spec.schema.get("format") == "date" or spec.widget == "date":
                answers[spec.name] = day.isoformat()
                day += timedelta(days=180)


def attachment_files(form: FormSpec) -> list[tuple[str, tuple[str, bytes, str]]]:
    """One file for every attachment slot, of a kind the slot accepts."""
    samples = {
        "pdf": ("证明材料.pdf", PDF_BYTES, "application/pdf"),
        "png": ("scan.png", PNG_BYTES, "image/png"),
        "jpeg": ("scan.jpg", JPEG_BYTES, "image/jpeg"),
    }
    files = []
    for slot in form.attachments.values():
        kind = next((k for k in ("pdf", "png", "jpeg") if k in slot.kinds), None)
        assert kind is not None, f"slot {slot.id} accepts none of pdf, png, jpeg: {slot.kinds}"
        files.append((f"attachment:{slot.id}", samples[kind]))
    return files


# -- the world: the live server and its people ---------------------------------------------------


@dataclass
class Applicant:
    """A registered enterprise (signed in) whose profile holds a measure's eligible example."""

    user: User
    name: str
    uscc: str
    district: str
    facts: dict[str, dict[str, object]]

    def facts_with_identity(self, city: City) -> dict[str, dict[str, object]]:
        facts = {entity: dict(values) for entity, values in self.facts.items()}
        for entity, values in city.registered_facts(
            name=self.name, code=self.uscc, district=self.district
        ).items():
            facts.setdefault(entity, {}).update(values)
        return facts


@dataclass
class World:
    """The live server of one backend, its portal object, and the people using it.

    Staff are made through the services; enterprises register through the pages, once per
    measure (registration hashes a password, which is the slowest thing a journey does).
    """

    base_url: str
    portal: Portal
    pack: PackUnderTest
    district: str
    ai_track: str | None
    staff: dict[str, User] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    applicants: dict[str, Applicant] = field(default_factory=dict)
    serial: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**6)))

    def close(self) -> None:
        for user in [*self.staff.values(), *(a.user for a in self.applicants.values())]:
            user.close()

    def staff_user(self, key: str, **fields: str | None) -> User:
        from portal.services.enterprises import create_staff_user

        user = self.staff.get(key)
        if user is None:
            username = f"j_{key}".replace(".", "_").replace("-", "_")[:40]
            created = create_staff_user(
                self.portal,
                None,
                username=username,
                password=PASSWORD,
                display_name=username,
                **fields,  # type: ignore[arg-type]
            )
            user = User(self.base_url)
            user.login(username)
            self.staff[key] = user
            self.user_ids[key] = int(created.id)  # type: ignore[arg-type]
        return user

    def district_reviewer(self, district: str) -> User:
        return self.staff_user(f"district_{district}", role="reviewer", district=district)

    def bureau_reviewer(self, unit: str) -> User:
        return self.staff_user(f"bureau_{unit}", role="reviewer", bureau=unit)

    def expert(self, n: int) -> tuple[User, int]:
        user = self.staff_user(f"expert_{n}", role="expert")
        return user, self.user_ids[f"expert_{n}"]

    def applicant(self, measure_id: str, facts: dict[str, dict[str, object]]) -> Applicant:
        found = self.applicants.get(measure_id)
        if found is None:
            found = self.applicants[measure_id] = register_enterprise(self, facts)
        return found


def register_enterprise(world: World, facts: dict[str, dict[str, object]]) -> Applicant:
    """A new enterprise registers through the page, signs in and saves its profile (the facts).

    It is verified by the bootstrap path: verification by papers has journeys of its own.
    """
    from portal.services.verified import verify_enterprise
    from tests.web.portal_helpers import new_uscc

    n = next(world.serial)
    city = world.pack.city
    # A measure of one district's bureau is for that district's enterprises: register there.
    entity, fact = split_fact(city.jurisdictions.fact)
    district = str(facts.get(entity, {}).get(fact) or world.district)
    entity, fact = split_fact(city.tracks.fact)
    track = facts.get(entity, {}).get(fact) or world.ai_track
    code = new_uscc()
    name = f"广州旅程{n:04d}号智能科技有限公司"
    user = User(world.base_url)
    data = {
        "uscc": code,
        "name": name,
        "district": district,
        "username": f"ent_{code[-10:].lower()}",
        "display_name": "王会计",
        "email": "clerk@example.cn",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    if track:
        data["ai_track"] = str(track)
    response = user.post_form("/register", data)
    assert response.status_code == 303, _errors_of(response.text)
    verify_enterprise(world.portal, code)
    user.login(data["username"])
    profile = {
        f"{entity}.{fact}": _posted(value)
        for entity, values in facts.items()
        for fact, value in values.items()
        if (entity, fact) not in world.pack.identity_facts()
    }
    response = user.post_form("/profile", profile)
    assert response.status_code == 303, _errors_of(response.text)
    return Applicant(user, name, code, district, facts)


# -- one case -----------------------------------------------------------------------------------


@dataclass
class Case:
    """One application, driven along a journey; `now` is its state and version as last seen."""

    world: World
    measure_id: str
    workflow: Workflow
    applicant: Applicant
    replace_expert_at: str | None = None
    id: int = 0
    now: dict[str, Any] = field(default_factory=dict)

    @property
    def enterprise(self) -> User:
        return self.applicant.user

    @property
    def form(self) -> FormSpec:
        return self.world.portal.forms[self.measure_id]

    @property
    def state(self) -> str:
        return str(self.now["state"])

    @property
    def version(self) -> int:
        return int(self.now["version"])

    def read(self) -> dict[str, Any]:
        """The application as its enterprise sees it through the JSON API (refreshes `now`)."""
        self.now = self.enterprise.api("GET", f"/applications/{self.id}")
        return self.now

    def start(self) -> None:
        self.now = self.enterprise.api("POST", "/applications", {"measure_id": self.measure_id})
        self.id = int(self.now["id"])

    def run(self, journey: Journey) -> None:
        if journey.kind == "expert_replaced":
            self.replace_expert_at = journey.at
        for step in journey.steps:
            self.take(step)
            assert self.state == step.target, (str(step), self.read())

    def take(self, step: Step) -> None:
        if self.state == step.target and step.source != step.target:
            return  # the case moved by itself (the panel reached the pass mark)
        leaving_expert_stage = is_expert_stage(self.workflow, self.workflow.state(step.source))
        if leaving_expert_stage and not is_unfavourable(self.workflow, step.edge):
            self.run_panel(replace_one=self.replace_expert_at == step.source)
            if self.state == step.target and step.source != step.target:
                return
        if is_objection_decision(step.edge):
            self.lodge_objection()
        if step.party == "enterprise":
            self.enterprise_acts(step)
        elif step.party == "system":
            self.let_time_pass(step)
        else:
            self.staff_fires(step)

    def submit_form(self) -> None:
        """Fill every field and upload every attachment through the form, then submit."""
        html = self.enterprise.page(f"/applications/{self.id}/edit")
        action = re.search(r'action="(/applications/\d+/edit\?v=\d+)"', html)
        assert action is not None, html[:1500]
        answers = form_answers(self.form, self.applicant.facts_with_identity(self.world.pack.city))
        data = {**answers, "action": "submit", "csrf_token": csrf_in(html)}
        files = attachment_files(self.form)
        if self.workflow.state(str(self.now["state"])).kind == "amendment":
            # Only the reopened (last) section takes uploads, as its disabled fieldsets let a browser send.
            reopened = {f"attachment:{slot.id}" for slot in self.form.sections[-1].attachments}
            files = [f for f in files if f[0] in reopened]
        response = self.enterprise.http.post(action.group(1), data=data, files=files)
        assert response.status_code == 303, _errors_of(response.text)
        self.read()

    def enterprise_acts(self, step: Step) -> None:
        if (
            self.workflow.state(step.source).kind in ("draft", "amendment")
            and not self.workflow.state(step.target).final
        ):
            self.submit_form()
        else:
            self.enterprise.api("DELETE", f"/applications/{self.id}?expected_version={self.version}")
            self.read()

    def reviewer(self, party: str) -> User:
        if party == "district":
            return self.world.district_reviewer(self.applicant.district)
        return self.world.bureau_reviewer(str(self.now["lead_unit"]))

    def staff_fires(self, step: Step) -> None:
        user = self.reviewer(step.party)
        body: dict[str, Any] = {"event": step.event, "expected_version": self.version}
        if step.comment_required:
            body["comment"] = "经审核，意见如下：材料需要进一步说明。"
        if self.workflow.state(step.target).kind == "amendment":
            body["sections"] = [self.form.sections[-1].id]
        user.api("POST", f"/applications/{self.id}/transitions", body)
        self.read()

    def let_time_pass(self, step: Step) -> None:
        """A timed event: move the pinned clock past the state's timer and run the SLA sweep."""
        from portal.services.sla import sweep

        spec = self.workflow.state(step.source)
        assert spec.timer is not None and spec.timer.event == step.event, f"{step} is not a timed event"
        portal = self.world.portal
        pinned = portal.clock
        portal.clock = pinned.pinned_to(portal.today() + timedelta(days=spec.timer.calendar_days + 1))
        try:
            sweep(portal)
        finally:
            portal.clock = pinned
        self.read()

    def lodge_objection(self) -> None:
        """A member of the public, not signed in, objects through the notice's public page."""
        public = User(self.world.base_url)
        try:
            response = public.post_form(
                f"/notices/{self.id}/objection",
                {
                    "name": "李市民",
                    "contact": "13900139000",
                    "email": "citizen@example.cn",
                    "reasons": "该企业申报的项目投资额与实际不符，请核查。",
                },
                token_from=f"/notices/{self.id}",
            )
        finally:
            public.close()
        assert response.status_code == 303, _errors_of(response.text)
        self.read()

    def run_panel(self, replace_one: bool = False) -> None:
        """The bureau assigns a panel through the case page; each expert declares and scores.

        With `replace_one`, the first expert is found conflicted after assignment and the bureau
        replaces them with another before anyone scores.
        """
        bureau = self.reviewer("bureau")
        size = case_rubric(self.world.portal, self.id).min_scores
        panel = list(range(1, size + 1))
        for n in panel:
            self.assign(bureau, n)
        if replace_one:
            self.replace_expert(bureau, panel[0], size + 1)
            panel = [*panel[1:], size + 1]
        for n in panel:
            expert, _ = self.world.expert(n)
            self.expert_scores(expert)
        self.read()

    def assign(self, bureau: User, n: int) -> None:
        _, expert_id = self.world.expert(n)
        response = bureau.post_form(
            f"/review/{self.id}/experts",
            {"expert_id": str(expert_id), "expected_version": str(self.version)},
            token_from=f"/review/{self.id}",
        )
        assert response.status_code == 303, _errors_of(response.text)
        self.read()

    def replace_expert(self, bureau: User, out: int, new: int) -> None:
        """Expert `out` declines for a conflict; the bureau replaces them with expert `new`."""
        declining, out_id = self.world.expert(out)
        html = declining.page(f"/expert/{self.id}")
        response = declining.http.post(
            f"/expert/{self.id}/recuse",
            data={
                "reason": "本人曾为申报单位提供咨询服务，申请回避。",
                "expected_version": str(self.version),
                "csrf_token": csrf_in(html),
            },
        )
        assert response.status_code == 303, _errors_of(response.text)
        self.read()
        _, new_id = self.world.expert(new)
        response = bureau.post_form(
            f"/review/{self.id}/experts/{out_id}/replace",
            {
                "new_expert_id": str(new_id),
                "expected_version": str(self.version),
                "reason": "专家回避，予以更换。",
            },
            token_from=f"/review/{self.id}",
        )
        assert response.status_code == 303, _errors_of(response.text)
        self.read()

    def expert_scores(self, expert: User) -> None:
        html = expert.page(f"/expert/{self.id}")
        response = expert.http.post(
            f"/expert/{self.id}/declare",
            data={"confirm": "true", "expected_version": _version_in(html), "csrf_token": csrf_in(html)},
        )
        assert response.status_code == 303, _errors_of(response.text)
        html = expert.page(f"/expert/{self.id}")
        criteria = case_rubric(self.world.portal, self.id).criteria
        scores = {f"score:{c.id}": "85" for c in criteria}
        comments = {f"comment:{c.id}": "材料翔实，论证充分。" for c in criteria}
        response = expert.http.post(
            f"/expert/{self.id}/score",
            data={**scores, **comments, "expected_version": _version_in(html), "csrf_token": csrf_in(html)},
        )
        assert response.status_code == 303, _errors_of(response.text)


def _version_in(html: str) -> str:
    version = re.search(r'name="expected_version" value="(\d+)"', html)
    assert version is not None, html[:1500]
    return version.group(1)


def _errors_of(html: str) -> str:
    """The error summary of a refused page, or its start, for an assertion message."""
    found = re.findall(r'class="[^"]*(?:error|alert)[^"]*"[^>]*>(.*?)<', html, re.S)
    return " | ".join(x.strip() for x in found if x.strip())[:2000] or html[:2000]


def select_options(html: str, name: str) -> list[str]:
    """The non-empty option values of the <select name=...> on a page."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, f"no <select name={name!r}>"
    return [v for v in re.findall(r'<option[^>]*value="([^"]*)"', select.group(1)) if v]
