"""The lists as the law stands in December 2026, with dates: changes, substances, upgrades."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from precursorwatch.cli import app
from precursorwatch.run.service import open_ready_store
from precursorwatch.settings import get_settings
from precursorwatch.store import create_api_key
from precursorwatch.web import create_app

with warnings.catch_warnings():  # starlette warns at import that httpx2 is not installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('law') / 'law.sqlite'}"
    result = CliRunner().invoke(app, ["init", "--db", url])
    assert result.exit_code == 0, result.output
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_changes_since_2026_name_the_acts_and_their_substances(db: str) -> None:
    code, out = run("lists", "changes", "--since", "2026-01-01", "--db", db)
    assert code == 0, out
    text = " ".join(out.split())
    assert "2026/314" in text and "2026-06523" in text
    assert "2-Bromo-4'-methylpropiophenone" in text and "Phenyl-2-nitropropene" in text
    assert "BMK glycidic acid" in text
    code, out = run("lists", "changes", "--since", "2026-01-01", "--list", "US-DEA-L1", "--db", db)
    assert code == 0 and "2026/314" not in out and "2026-06523" in " ".join(out.split())


@pytest.mark.parametrize("bad", ["2026-13-45", "tomorrow", "2026-02-30"])
def test_a_bad_date_is_exit_2_with_one_line(db: str, bad: str) -> None:
    code, out = run("lists", "changes", "--since", bad, "--db", db)
    assert code == 2
    assert "--since" in out and "YYYY-MM-DD" in out


def test_substances_show_their_act_and_date(db: str) -> None:
    code, out = run("substance", "5337-93-9", "--db", db)
    assert code == 0, out
    text = " ".join(out.split())
    assert "EU-CAT1" in text and "2026/314" in text and "from 2026-05-18" in text
    code, out = run("substance", "705-60-2", "--db", db)
    assert code == 0 and "EU-CAT1" in out and "2026/314" in " ".join(out.split())
    code, out = run("substance", "BMK glycidic acid", "--db", db)
    assert code == 0
    assert "US-DEA-L1" in out and "from 2026-05-04" in " ".join(out.split())


def test_unconfirmed_facts_are_shown_as_such(db: str) -> None:
    code, out = run("substance", "1451-82-7", "--db", db)
    assert code == 0, out
    assert "not confirmed by a stored source" in out
    assert "1451-82-7" in out


def test_us_list_ii_holds_its_eleven_chemicals(db: str) -> None:
    code, out = run("lists", "show", "US-DEA-L2", "--db", db)
    assert code == 0, out
    for key in (
        "acetic-anhydride",
        "acetone",
        "potassium-permanganate",
        "sodium-permanganate",
        "methyl-isobutyl-ketone",
        "toluene",
    ):
        assert key in out
    store = open_ready_store(get_settings(database_url=db))
    try:
        from precursorwatch.run.service import watchlist_of

        assert len(watchlist_of(store).lists["US-DEA-L2"].entries) == 11
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def client(db: str) -> Iterator[tuple[TestClient, str]]:
    settings = get_settings(database_url=db)
    store = open_ready_store(settings)
    with store.session() as session:
        _, key = create_api_key(session=session, name="law-officer", role="officer")
    with TestClient(create_app(settings, store)) as c:
        yield c, key
    store.dispose()


def test_api_changes(client: tuple[TestClient, str]) -> None:
    c, key = client
    auth = {"Authorization": f"Bearer {key}"}
    response = c.get("/v1/lists/changes", params={"since": "2026-01-01"}, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    acts = {ch["act"] for ch in body["changes"]}
    assert any("2026/314" in a for a in acts) and any("2026-06523" in a for a in acts)
    assert all(ch["day"] >= "2026-01-01" for ch in body["changes"])
    response = c.get("/v1/lists/changes", params={"since": "2026-13-45"}, headers=auth)
    assert response.status_code == 422
    assert set(response.json()) == {"error"}
    assert c.get("/v1/lists/changes").status_code == 401


def test_a_store_of_the_previous_release_upgrades_in_place(tmp_path: Path) -> None:
    """The store made by ac44fb0 (tests/data/stores/README.md) opens, keeps its screening, loads
    the new list versions, and rescreening finds the lines the 2026 additions raised."""
    path = tmp_path / "old.sqlite"
    shutil.copy(DATA / "stores" / "store-ac44fb0.sqlite", path)
    url = f"sqlite:///{path}"
    code, out = run("init", "--db", url)
    assert code == 0, out
    code, out = run("history", "acetone", "--db", url)
    assert code == 0, out
    assert "Paint Works" in out
    code, out = run("rescreen", "--since", "2026-01-01", "--db", url)
    assert code == 1, out  # some risk rose
    text = " ".join(out.split())
    assert "2-bromo-4'-methylpropiophenone" in text.casefold() or "2-Bromo-4'" in text


BROMO = 'Line,Goods Description,Net Mass,UoM\n1,"2-bromo-4\'-methylpropiophenone",25,kg\n'


def test_screen_as_of_a_day_before_the_listing(tmp_path: Path, db: str) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(BROMO)
    then, now = tmp_path / "then.csv", tmp_path / "now.csv"
    code, out = run("screen", str(manifest), "--as-of", "2026-01-10", "-o", str(then), "--db", db)
    assert code == 1, out
    row = then.read_text().splitlines()[1]
    assert "EU-CAT1" not in row
    assert "Not listed on 2026-01-10" in row and "2026-05-18" in row and "2026/314" in row
    assert ",medium," in row  # coming within 12 months: at least medium
    code, out = run("screen", str(manifest), "-o", str(now), "--db", db)
    assert code == 1
    assert ",high," in now.read_text() and "EU-CAT1" in now.read_text()


@pytest.mark.parametrize("bad", ["2026-13-45", "tomorrow"])
def test_a_bad_as_of_is_exit_2_and_writes_nothing(tmp_path: Path, bad: str) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(BROMO)
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    code, out = run("screen", str(manifest), "--as-of", bad, "--db", url)
    assert code == 2
    assert "--as-of" in out and "YYYY-MM-DD" in out
    assert not (tmp_path / "fresh.sqlite").exists()


def test_a_day_before_the_data_warns_which_lists_are_not_known(tmp_path: Path, db: str) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(BROMO)
    out_path = str(tmp_path / "o.csv")
    args = ["screen", str(manifest), "--as-of", "2020-06-01", "-o", out_path, "--db", db]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1)
    assert "not known for 2020-06-01" in result.output and "UN-T1" in result.output


def test_us_list_ii_threshold_follows_the_route() -> None:
    """Acetone: 150 kg per domestic transaction, 1,500 kg per import or export (21 CFR
    1310.04(f)); the line's origin and destination choose, and the reason says which."""
    import pandas as pd

    from precursorwatch import Screener
    from precursorwatch.lists.load import load_bundled

    frame = pd.DataFrame(
        {
            "description": ["Acetone"] * 3,
            "quantity": ["200"] * 3,
            "unit": ["kg"] * 3,
            "origin": ["US", "DE", ""],
            "destination": ["USA", "US", ""],
        }
    )
    out = Screener(load_bundled(), use_opsin=False).screen_frame(frame)
    domestic, crossing, unsaid = out.to_dict("records")
    assert domestic["risk"] == "high" and "domestic threshold applies" in domestic["reason"]
    assert crossing["risk"] == "medium" and "cross the US border" in crossing["reason"]
    assert unsaid["risk"] == "medium" and "origin or destination not given" in unsaid["reason"]
