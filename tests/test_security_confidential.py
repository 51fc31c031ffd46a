"""Findings 2, 3 and 5 of issue 19, and the class they belong to: no confidential fact in
anything an operator can receive, through the real server.

* 2: the mismatch matcher wrote a confidential list's name into its evidence text.
* 3: re-importing a confidential list without the flag made it public, silently.
* 5: a substance dropped from a confidential list became readable to operators.
* The class, as a property: for generated confidential lists, an operator screens lines
  aimed at them (by synonym, name, misspelt name, CAS, structure, a mislabelling) through
  the JSON API and an upload, then reads every route in every format; no byte of any
  answer holds the list's code or title, or a key, name, synonym or CAS of its substances
  (other than what the operator sent itself).
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _live_server import Live, cas_with_check, live_server
from precursorwatch.web.visibility import REFER


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    keys = {
        "admin": ("admin", "conf-admin"),
        "officer": ("officer", "conf-officer"),
        "operator": ("operator", "conf-operator"),
    }
    with live_server(tmp_path_factory.mktemp("confidential"), keys) as s:
        yield s


def everything(response: httpx.Response) -> str:
    """Every byte an answer carries: headers and body, an XLSX unzipped."""
    head = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    body = response.content
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            body = b" ".join(archive.read(n) for n in archive.namelist())
    return head + " " + body.decode("utf-8", "replace")


def found(text: str, secrets: list[str], sent: list[str]) -> list[str]:
    low = text.casefold()
    echoed = " ".join(sent).casefold()
    return [s for s in secrets if s.casefold() in low and s.casefold() not in echoed]


# --- the generated lists ----------------------------------------------------------------------

_serial = itertools.count(1)
_words = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=4, max_size=6)


@st.composite
def confidential_lists(draw: st.DrawFn) -> dict[str, Any]:
    """A confidential list of 1-3 made-up substances (and maybe a public one)."""
    n = next(_serial)
    code = f"CONF-{draw(st.text(alphabet='QXZJ', min_size=2, max_size=4))}{n}"
    subs = []
    for i in range(draw(st.integers(1, 3))):
        stem = draw(_words)
        chain = "C" * (6 + n % 9)
        tail = draw(st.sampled_from(["F", "Cl", "Br", "OC", "SC", "C#N"]))
        subs.append(
            {
                "key": f"zq{stem}{n}x{i}",
                "name": f"Zq{stem.capitalize()}amine{n}x{i}",
                "cas": cas_with_check(f"98{n:04d}{i}{draw(st.integers(10, 99))}"),
                "smiles": f"{chain}OC(=O)c1ccc({tail})cc1N{'C' * (i + 1)}",
                "synonym": f"qqv {stem} {n}{i} blend",
            }
        )
    shared = draw(st.sampled_from(["", "acetic-anhydride", "safrole"]))
    return {
        "code": code,
        "title": f"Register {draw(_words).capitalize()}wick {n}",
        "category": f"tier-{draw(_words)}{n}",
        "substances": subs,
        "shared": shared,
    }


def as_yaml(c: dict[str, Any], *, confidential: bool | None = True, drop: int = -1) -> str:
    flag = "" if confidential is None else f"confidential: {str(confidential).lower()}\n"
    entries = []
    for i, s in enumerate(c["substances"]):
        if i == drop:
            continue
        entries.append(
            f"  - key: {s['key']}\n    name: {s['name']}\n    cas: {s['cas']}\n"
            f"    smiles: '{s['smiles']}'\n    synonyms: ['{s['synonym']}']\n"
            f"    category: {c['category']}\n"
        )
    if c["shared"]:
        entries.append(f"  - substance: {c['shared']}\n    category: {c['category']}\n")
    return f"code: {c['code']}\ntitle: {c['title']}\n{flag}entries:\n" + "".join(entries)


def secrets_of(c: dict[str, Any]) -> list[str]:
    terms = [c["code"], c["title"], c["category"]]
    for s in c["substances"]:
        terms += [s["key"], s["name"], s["cas"], s["synonym"]]
    return terms


def operator_reads(live: Live, sid: str) -> dict[str, httpx.Response]:
    got = {
        f"api{suffix}": live.get("operator", f"/v1/screenings/{sid}{suffix}")
        for suffix in ("", "/report.csv", "/report.xlsx", "/report.html")
    }
    with live.signed_in("operator") as page:
        for suffix in ("", "/report.csv", "/report.xlsx", "/report.html"):
            got[f"page{suffix}"] = page.get(f"/screenings/{sid}{suffix}")
    return got


def other_reads(live: Live, c: dict[str, Any]) -> dict[str, httpx.Response]:
    got = {
        path: live.get("operator", path)
        for path in ("/v1/lists", "/v1/lists/UN-T1", "/openapi.json", "/healthz")
    }
    if c["shared"]:
        got["shared"] = live.get("operator", f"/v1/substances/{c['shared']}")
        got["shared.svg"] = live.get("operator", f"/v1/substances/{c['shared']}/depiction.svg")
    got["rescreen"] = live.request("operator", "POST", "/v1/rescreen", json={"since": "2000-01-01"})
    with live.signed_in("operator") as page:
        for path in ("/lists", "/lists/UN-T1", "/upload"):
            got[f"page {path}"] = page.get(path)
    return got


@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(c=confidential_lists())
def test_no_confidential_fact_reaches_an_operator(live: Live, c: dict[str, Any]) -> None:
    imported = live.import_list(f"{c['code'].lower()}.yaml", as_yaml(c), confidential=True)
    assert imported.status_code == 201, imported.text
    secrets = secrets_of(c)
    subs = c["substances"]
    probes = [
        # by synonym, structure (and its salt), misspelt name, and a listed name mislabelled
        [
            *({"line_id": f"a{i}", "description": s["synonym"]} for i, s in enumerate(subs)),
            *({"line_id": f"b{i}", "smiles": s["smiles"]} for i, s in enumerate(subs)),
            *({"line_id": f"c{i}", "smiles": s["smiles"] + ".Cl"} for i, s in enumerate(subs)),
            *({"line_id": f"d{i}", "description": s["name"][:-1]} for i, s in enumerate(subs)),
            {"line_id": "e", "description": "sodium acetate", "cas": "108-24-7"},
            {"line_id": "f", "description": "safrole"},
        ],
        # by CAS, alone and under an innocent name
        [
            *({"line_id": f"g{i}", "cas": s["cas"]} for i, s in enumerate(subs)),
            *(
                {"line_id": f"h{i}", "description": "sodium chloride", "cas": s["cas"]}
                for i, s in enumerate(subs)
            ),
        ],
    ]
    for lines in probes:
        sent = [str(v) for line in lines for k, v in line.items() if k != "line_id"]
        screened = live.screen("operator", lines)
        assert screened.status_code == 200, screened.text
        assert found(everything(screened), secrets, sent) == []
        flagged = [x for x in screened.json()["lines"] if x["line_id"][0] in "abgh"]
        assert all(x["flagged"] and x["matched_name"] == REFER for x in flagged), flagged
        csv = "line_id,description,cas,smiles\n" + "".join(
            f'{x["line_id"]},"{x.get("description", "")}",{x.get("cas", "")},'
            f'"{x.get("smiles", "")}"\n'
            for x in lines
        )
        uploaded = live.upload("operator", "probe.csv", csv.encode())
        assert uploaded.status_code == 201, uploaded.text
        for sid in (screened.json()["screening_id"], uploaded.json()["screening_id"]):
            for where, response in operator_reads(live, sid).items():
                assert response.status_code == 200, where
                assert found(everything(response), secrets, sent) == [], where
    for where, response in other_reads(live, c).items():
        assert found(everything(response), secrets, []) == [], where
    for s in subs:  # hidden exactly as unknown ones are
        for path in (f"/v1/substances/{s['key']}", f"/v1/substances/{s['key']}/depiction.svg"):
            assert live.get("operator", path).status_code == 404
    assert live.get("operator", f"/v1/lists/{c['code']}").status_code == 404
    # the checks are real: an officer sees what the operator does not
    officer = live.screen("officer", probes[0])
    assert c["code"] in officer.text


# --- finding 2: the mismatch matcher's text ----------------------------------------------------

SECRET = {
    "code": "SECRET-MM",
    "title": "Quillfeather Mismatch Register",
    "category": "tangerine-tier",
    "substances": [
        {
            "key": "zorbanine",
            "name": "Zorbanine",
            "cas": cas_with_check("777123455"),
            "smiles": "CC(C)(C)c1ccc(cc1)C(=O)N1CCSCC1",
            "synonym": "zx-77 blend",
        }
    ],
    "shared": "acetic-anhydride",
}


@pytest.fixture(scope="module")
def secret_list(live: Live) -> dict[str, Any]:
    assert live.import_list("secret-mm.yaml", as_yaml(SECRET), confidential=True).status_code == 201
    return SECRET


def test_mismatch_evidence_names_no_confidential_list(live: Live, secret_list: Any) -> None:
    lines = [{"description": "sodium acetate", "cas": "108-24-7"}]
    operator = live.screen("operator", lines)
    assert operator.status_code == 200
    line = operator.json()["lines"][0]
    assert line["matched_key"] == "acetic-anhydride" and line["flagged"]
    assert any(e["kind"] == "mismatch" for e in line["evidence"])
    assert found(everything(operator), secrets_of(SECRET), ["sodium acetate", "108-24-7"]) == []
    officer = live.screen("officer", lines).json()["lines"][0]
    assert "SECRET-MM" in officer["lists"]
    assert any("SECRET-MM" in e["detail"] for e in officer["evidence"] if e["kind"] == "mismatch")


# --- finding 3: confidentiality never changes silently -----------------------------------------


def made_up(key: str, cas_body: str, smiles: str) -> dict[str, str]:
    """A made-up substance for one test's list."""
    return {
        "key": key,
        "name": key.capitalize(),
        "cas": cas_with_check(cas_body),
        "smiles": smiles,
        "synonym": f"{key[:3]}-9 paste",
    }


def _operator_sees(live: Live, code: str) -> bool:
    return code in live.get("operator", "/v1/lists").text


def test_a_new_version_stays_confidential_unless_made_public(live: Live, tmp_path: Any) -> None:
    c = {**SECRET, "code": "SECRET-RE", "title": "Reimport Register", "shared": ""}
    c["substances"] = [made_up("rekeyine", "66612345", "CCCCCCCCCOC(=O)c1ccc(I)cc1")]
    assert live.import_list("secret-re.yaml", as_yaml(c), confidential=True).status_code == 201
    mark = live.last_audit_id()
    # a new version through the API, no flag anywhere: stays confidential
    v2 = _referencing(c, "v2")
    assert live.import_list("secret-re.yaml", v2).status_code == 201
    assert not _operator_sees(live, "SECRET-RE")
    # through the CLI, no flag: stays confidential
    path = tmp_path / "secret-re.yaml"
    path.write_text(_referencing(c, "v3"), encoding="utf-8")
    done = live.cli("lists", "import", str(path))
    assert done.returncode == 0, done.stderr
    assert not _operator_sees(live, "SECRET-RE")
    events = [e for e in live.audit(mark) if e[2].startswith("list.") and "SECRET-RE" in e[3]]
    assert len(events) == 2
    assert all('"confidential": true' in e[3] and "kept confidential" in e[3] for e in events)
    # said explicitly: public (API form field), and audited as such
    v4 = live.import_list("secret-re.yaml", _referencing(c, "v4"), confidential=False)
    assert v4.status_code == 201 and _operator_sees(live, "SECRET-RE")
    made_public = live.audit(mark)[-1]
    assert "made public" in made_public[3] and made_public[4] == live.key_ids["admin"]
    # and back, then public again with the CLI's --public
    assert live.import_list("secret-re.yaml", _referencing(c, "v5"), True).status_code == 201
    assert not _operator_sees(live, "SECRET-RE")
    path.write_text(_referencing(c, "v6"), encoding="utf-8")
    assert live.cli("lists", "import", str(path), "--public").returncode == 0
    assert _operator_sees(live, "SECRET-RE")
    both = live.cli("lists", "import", str(path), "--public", "--confidential")
    assert both.returncode == 2 and "not both" in both.stderr


def _referencing(c: dict[str, Any], note: str, confidential: bool | None = None) -> str:
    """A later version of ``c`` naming its substances by key (they are defined already)."""
    flag = "" if confidential is None else f"confidential: {str(confidential).lower()}\n"
    entries = "".join(
        f"  - substance: {s['key']}\n    category: {c['category']}\n" for s in c["substances"]
    )
    return f"code: {c['code']}\ntitle: {c['title']}\nlegal_basis: {note}\n{flag}entries:\n{entries}"


def test_the_files_own_confidential_false_counts_as_said(live: Live) -> None:
    c = {**SECRET, "code": "SECRET-OWN", "title": "Own Flag Register", "shared": ""}
    c["substances"] = [made_up("ownflagine", "55512345", "CCCCCCCCCCCOC(=O)c1ccc(I)cc1")]
    assert live.import_list("own.yaml", as_yaml(c), confidential=True).status_code == 201
    assert not _operator_sees(live, "SECRET-OWN")
    assert (
        live.import_list("own.yaml", _referencing(c, "v2", confidential=False)).status_code == 201
    )
    assert _operator_sees(live, "SECRET-OWN")


# --- finding 5: a substance dropped from a confidential list -----------------------------------


def test_a_dropped_substance_stays_hidden(live: Live) -> None:
    c = {**SECRET, "code": "SECRET-DROP", "title": "Drop Register", "shared": "acetic-anhydride"}
    c["substances"] = [made_up("dropvaline", "44412345", "CCCCCCCCCCCCOC(=O)c1ccc(I)cc1")]
    assert live.import_list("drop.yaml", as_yaml(c), confidential=True).status_code == 201
    dropped = (
        "code: SECRET-DROP\ntitle: Drop Register\nconfidential: true\nentries:\n"
        "  - substance: acetic-anhydride\n    category: x\n"
    )
    assert live.import_list("drop.yaml", dropped).status_code == 201
    for path in ("/v1/substances/dropvaline", "/v1/substances/dropvaline/depiction.svg"):
        hidden = live.get("operator", path)
        unknown = live.get("operator", path.replace("dropvaline", "nosuchthing"))
        assert hidden.status_code == unknown.status_code == 404
        assert hidden.text.replace("dropvaline", "X") == unknown.text.replace("nosuchthing", "X")
    with live.signed_in("operator") as page:
        assert page.get("/substances/dropvaline").status_code == 404
    # a line that matched it when it was listed is referred, not named
    assert live.get("officer", "/v1/substances/dropvaline").status_code == 200
