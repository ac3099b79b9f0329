"""Issue #15 item 8: AD exports as csvde and Windows PowerShell 5.1 write them
(tests/fixtures/ad-exports, see SOURCE.md there)."""

from __future__ import annotations

from pathlib import Path

from exportkit import rows, skipped
from typer.testing import CliRunner

from entitle.cli.main import app
from entitle.importers.ad import ExternalRule, import_ad

AD = Path(__file__).resolve().parents[1] / "fixtures" / "ad-exports"


def test_csvde_in_cp1252() -> None:
    """csvde-users.csv, by hand: jmueller userAccountControl 512 (0x200, enabled); aberg 514 =
    0x202, the ACCOUNTDISABLE bit 0x2 set: skipped; partner1 66048 = 0x10200 (enabled), in
    Extranet Users: external; FS01$ is objectClass computer: device fs01. Domain from DN's first
    DC=: contoso. So 1 internal user, 1 external, 1 computer, 1 disabled skipped."""
    rule, _ = ExternalRule.parse(groups=["Extranet Users"])
    result = import_ad([AD / "csvde-users.csv"], rule=rule, encoding="cp1252")
    assert result.ok, result.problems
    assert {r["user"]: r["external"] for r in rows(result, "users")} == {
        "contoso\\jmueller": "no",
        "contoso\\partner1": "yes",
    }
    assert [r["device"] for r in rows(result, "devices")] == ["fs01"]
    assert skipped(result) == {"disabled account (userAccountControl has ACCOUNTDISABLE, 0x2)": 1}
    assert not result.findings  # cp1252 decoded 'Jürgen': no '?' anywhere


def test_cp1252_without_encoding_is_refused_with_the_way_out() -> None:
    result = import_ad([AD / "csvde-users.csv"])
    assert not result.ok
    assert "not UTF-8" in result.problems[0].message
    assert "--encoding cp1252" in result.problems[0].hint


def test_without_a_dn_the_users_are_refused_by_name() -> None:
    """ps51-users.csv has no DistinguishedName: the 3 enabled users (lines 3, 4, 5 after the
    #TYPE line and the header) have no domain; 'old' is disabled (line 6)."""
    result = import_ad([AD / "ps51-users.csv"])
    assert not result.ok
    problem = result.problems[0]
    assert problem.source.line == 3
    assert "3 users have no domain" in problem.message
    assert "jmueller (line 3), bob (line 4), sjoberg (line 5)" in problem.message
    assert "--domain" in problem.hint


def test_type_names_and_ascii_question_marks_are_findings() -> None:
    """With --domain CONTOSO: 3 users. MemberOf is the type name in all 4 rows (the disabled
    one too); 2 names hold '?' (J?rgen M?ller line 3, Stina Sj?berg line 5)."""
    result = import_ad([AD / "ps51-users.csv"], domain="CONTOSO")
    assert result.ok, result.problems
    assert sorted(r["user"] for r in rows(result, "users")) == [
        "contoso\\bob",
        "contoso\\jmueller",
        "contoso\\sjoberg",
    ]
    found = {f.code: f.message for f in result.findings}
    assert found["ad-type-name"].startswith(
        "MemberOf holds the type name "
        "Microsoft.ActiveDirectory.Management.ADPropertyValueCollection in 4 rows"
    )
    assert "@{n='MemberOf';e={$_.MemberOf -join ';'}}" in found["ad-type-name"]
    assert found["ascii-question-marks"].startswith("2 names hold '?'")
    assert "J?rgen M?ller" in found["ascii-question-marks"]
    assert "Stina Sj?berg" in found["ascii-question-marks"]


def test_the_command_takes_encoding_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["import", "ad", str(AD / "csvde-users.csv"), "--into", str(tmp_path / "e")]
    bad = runner.invoke(app, [*base, "--encoding", "klingon"])
    assert bad.exit_code == 2 and "not an encoding" in bad.output
    refused = runner.invoke(app, base)
    assert refused.exit_code == 2 and "--encoding cp1252" in refused.output
