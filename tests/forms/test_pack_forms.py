"""Every form in forms/ is valid 2020-12 and agrees with the rule pack it belongs to."""

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from portal.city import load_city
from portal.forms import FormFileError, FormSpec, load_forms
from portal.forms.lint import lint_forms
from portal.forms.model import Text
from portal.services.context import with_pack_tracks
from tests.forms.conftest import REPO

REQUIRED_MEASURES = {
    "tax.high_tech_enterprise",
    "qualification.st_sme",
    "subsidy.ai_scenario_demo",
    "subsidy.model_filing",
    "procurement.first_set_reward",
    "talent.gba_iit_subsidy",
}


def test_the_required_measures_have_forms(forms: dict[str, FormSpec]) -> None:
    assert set(forms) >= REQUIRED_MEASURES


@pytest.mark.parametrize("path", sorted((REPO / "forms").glob("*.yaml")), ids=lambda p: p.stem)
def test_schema_is_valid_2020_12(path: Path, forms: dict[str, FormSpec]) -> None:
    spec = forms[path.stem]
    Draft202012Validator.check_schema(spec.schema)
    assert spec.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert any(s.attachments for s in spec.sections)


def test_prefills_name_facts_of_the_right_type(forms: dict[str, FormSpec]) -> None:
    facts = yaml.safe_load((REPO / "rules" / "facts.yaml").read_text(encoding="utf-8"))
    assert lint_forms(forms, facts) == []


def test_every_form_belongs_to_a_measure_of_the_pack(forms: dict[str, FormSpec]) -> None:
    from portal.rules import load_pack

    facts = yaml.safe_load((REPO / "rules" / "facts.yaml").read_text(encoding="utf-8"))
    pack = load_pack(REPO / "rules")
    assert lint_forms(forms, facts, set(pack.measure_ids())) == []


def test_a_form_that_asks_for_an_amount_names_it(forms: dict[str, FormSpec]) -> None:
    """No grant exceeds what was asked for, which the portal knows only where the form says so."""
    asking = {
        measure
        for measure, spec in forms.items()
        if any(name.startswith("requested") for name in spec.schema.get("properties", {}))
    }
    assert asking == {"subsidy.ai_scenario_demo"}
    assert {m for m, spec in forms.items() if spec.requested_amount_field} == asking
    assert forms["subsidy.ai_scenario_demo"].requested_amount_field == "requested_amount"


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            "requested_amount_field: requested_amount",
            "requested_amount_field: project_name",
            "requested_amount_field: `project_name` must be an amount of money (`type: number`)",
        ),
        # Misspelt, the setting was read as absent: grants were no longer capped by the request.
        (
            "requested_amount_field: requested_amount",
            "requested_amout_field: requested_amount",
            "file: unknown key `requested_amout_field`; use measure, requested_amount_field, schema, title, "
            "title_field, track_field, ui",
        ),
    ],
    ids=["not-a-number", "misspelt"],
)
def test_a_bad_setting_stops_the_server_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, said: str
) -> None:
    from typer.testing import CliRunner

    from portal.cli import app
    from portal.settings import get_settings

    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("rules", "workflows"):
        (pack / name).symlink_to(REPO / name, target_is_directory=True)
    (pack / "pack.yaml").symlink_to(REPO / "pack.yaml")
    shutil.copytree(REPO / "forms", pack / "forms")
    form = pack / "forms" / "subsidy.ai_scenario_demo.yaml"
    form.write_text(
        form.read_text(encoding="utf-8").replace(old, new),
        encoding="utf-8",
    )

    def never_listen(host: str, port: int) -> None:
        raise OSError("the server must not get as far as listening")

    monkeypatch.setattr("portal.cli.serve.tcp_listener", never_listen)  # a pack that loads fails, not hangs
    monkeypatch.setenv("PORTAL_PACK_DIR", str(pack))
    monkeypatch.setenv("PORTAL_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'portal.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--port", "8199"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line == f"error: cannot start: {form}: {said}"


def test_a_track_field_offers_only_the_pack_s_tracks() -> None:
    """The answer of a `track_field` is the case's track, so start-up refuses a value pack.yaml lacks."""
    city = load_city(REPO)
    forms = load_forms(REPO / "forms")
    with_pack_tracks(city, forms)
    spec = forms["subsidy.ai_scenario_demo"]
    assert spec.track_field == "track"
    moon = {**spec.schema["properties"]["track"], "enum": ["zao", "moon"]}
    bad = replace(spec, schema={**spec.schema, "properties": {**spec.schema["properties"], "track": moon}})
    with pytest.raises(
        FormFileError, match=r"track_field: values that are not tracks of pack\.yaml: \['moon'\]"
    ):
        with_pack_tracks(city, {**forms, spec.measure_id: bad})


def test_a_track_reads_as_pack_yaml_names_it_on_every_form() -> None:
    """One label per track: a `track_field` takes pack.yaml's labels (the queue's filter, the
    exports and the figures use them), and a form that labels the tracks itself is refused."""
    city = load_city(REPO)
    forms = with_pack_tracks(city, load_forms(REPO / "forms"))
    tracked = [spec for spec in forms.values() if spec.track_field is not None]
    assert tracked
    for spec in tracked:
        for code, text in spec.fields[spec.track_field].choices:
            assert (text.zh, text.en) == (city.tracks.label(code, "zh"), city.tracks.label(code, "en"))
    spec = tracked[0]
    field = replace(spec.fields[spec.track_field], options={"zao": Text("造", "Manufacturing")})
    sections = tuple(
        replace(s, fields=tuple(field if f.name == field.name else f for f in s.fields))
        for s in spec.sections
    )
    with pytest.raises(FormFileError, match=r"labels its options; the tracks' labels come from pack\.yaml"):
        with_pack_tracks(city, {spec.measure_id: replace(spec, sections=sections)})
