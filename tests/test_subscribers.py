"""Subscribers: CSV import (bad rows by line, idempotent), add, remove, list, export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefings import subscribers
from briefings.cli import main
from briefings.store import Store

from .conftest import NOW

CONFIG = """
[briefings.israel]
title = "Israel Briefing"
topics = ["israel"]
schedule = "0 7 * * *"

[briefings.industries]
title = "PRO Industry Weekly"
format = "industry"
tier = "pro"
topics = ["oil-gas", "banking"]
schedule = "0 9 * * thu"
"""
CSV = """email,name,tier,briefings,industries
dana@Example.ORG,Dana Levi,free,israel,
omer@example.org,Omer,pro,israel;industries,banking;oil-gas
not-an-address,Nobody,free,israel,
eli@example.org,Eli,gold,israel,
ruth@example.org,Ruth,free,isreal,
kemal@example.org,"Kemal, Jr.",pro,industries,shipping
"""


def test_parse_reports_each_bad_row_by_line() -> None:
    parsed = subscribers.parse_csv(
        CSV,
        "subs.csv",
        known_briefings=["israel", "industries"],
        known_industries=["oil-gas", "banking"],
    )
    assert [s.email for s in parsed.subscribers] == ["dana@example.org", "omer@example.org"]
    assert parsed.subscribers[1].industries == ("banking", "oil-gas")  # the order is kept
    assert parsed.problems == (
        "subs.csv:4: 'not-an-address' is not an email address",
        "subs.csv:5: tier 'gold' is not free or pro",
        "subs.csv:6: unknown briefing 'isreal' (did you mean 'israel'?)",
        "subs.csv:7: unknown industry 'shipping'",
    )


def test_a_wrong_header_is_one_clear_problem() -> None:
    parsed = subscribers.parse_csv(
        "mail,name\nx@y.org,X\n", "subs.csv", known_briefings=[], known_industries=[]
    )
    assert parsed.problems == (
        "subs.csv:1: missing column 'email'; no row was read "
        "(the columns are email,name,tier,briefings,industries)",
    )


def test_import_is_idempotent_and_never_resubscribes(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    path = write_config(CONFIG)
    csv_file = tmp_path / "subs.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(main, ["--config", str(path), "subscribers", "import", str(csv_file)])
    assert first.exit_code == 1  # some rows were refused
    assert "2 added, 0 updated, 0 unchanged, 4 rows refused" in first.output
    assert f"{csv_file}:4: 'not-an-address' is not an email address" in first.output
    store = Store(f"sqlite:///{tmp_path}/briefings.db")
    store.set_status("dana@example.org", "unsubscribed", now=NOW)
    again = runner.invoke(main, ["--config", str(path), "subscribers", "import", str(csv_file)])
    assert "0 added, 0 updated, 2 unchanged, 4 rows refused" in again.output  # changes nothing
    statuses = {s.email: s.status for s in store.list_subscribers()}
    assert statuses == {"dana@example.org": "unsubscribed", "omer@example.org": "active"}
    store.close()


def test_add_list_export_remove(write_config: Callable[[str], Path], tmp_path: Path) -> None:
    path = write_config(CONFIG)
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(main, ["--config", str(path), "subscribers", *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert (
        cli(
            "add",
            "nino@example.org",
            "--name",
            "Nino",
            "--tier",
            "pro",
            "--briefing",
            "industries",
            "--industry",
            "oil-gas",
        )
        == "added nino@example.org\n"
    )
    assert cli("add", "NINO@example.org", "--briefing", "israel") == "updated NINO@example.org\n"
    assert cli("add", "NINO@example.org", "--briefing", "israel") == "unchanged NINO@example.org\n"
    assert "NINO@example.org\tpro\tactive\tindustries;israel" in cli("list", "--briefing", "israel")
    exported = cli("export")
    assert exported.splitlines()[0] == "email,name,tier,briefings,industries,status,unsubscribed"
    back = subscribers.parse_csv(
        exported,
        "export.csv",
        known_briefings=["israel", "industries"],
        known_industries=["oil-gas"],
    )
    assert back.problems == () and [s.email for s in back.subscribers] == ["NINO@example.org"]
    assert cli("remove", "nino@example.org") == "removed nino@example.org\n"
    missing = runner.invoke(main, ["--config", str(path), "subscribers", "remove", "x@y.org"])
    assert missing.exit_code == 1
    bad = runner.invoke(main, ["--config", str(path), "subscribers", "add", "nope"])
    assert bad.exit_code == 2
    assert "subscriber 'nope': 'nope' is not an email address" in bad.output


@pytest.mark.parametrize("address", ["a@b.c", "first.last+tag@sub.example.org"])
def test_good_addresses(address: str) -> None:
    assert subscribers.normal_address(f"  {address} ") == address


@pytest.mark.parametrize("address", ["", "a@b", "a b@c.org", "a@-b.org", "x@y.org\r\nBcc: z@q.org"])
def test_bad_addresses(address: str) -> None:
    with pytest.raises(ValueError):
        subscribers.normal_address(address)


def test_a_name_with_a_control_character_is_refused(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    path = write_config(CONFIG)
    runner = CliRunner()
    added = runner.invoke(
        main,
        ["--config", str(path), "subscribers", "add", "x@example.org", "--name", "Evil\x07Bell"],
    )
    assert added.exit_code == 2
    assert added.output.strip().splitlines() == [
        "error: subscriber 'x@example.org': the name has a control character (U+0007)"
    ]
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email,name\nx@example.org,Evil\x07Bell\ny@example.org,Yael\n")
    imported = runner.invoke(main, ["--config", str(path), "subscribers", "import", str(csv_file)])
    assert imported.exit_code == 1
    assert f"{csv_file}:2: the name has a control character (U+0007)" in imported.output
    assert "1 added" in imported.output


def test_updates_keep_what_they_do_not_give(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    path = write_config(CONFIG)
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(main, ["--config", str(path), "subscribers", *args])
        assert result.exit_code == 0, result.output
        return result.output

    csv_file = tmp_path / "people.csv"
    csv_file.write_text(CSV.splitlines()[0] + "\n" + CSV.splitlines()[2] + "\n")
    cli("import", str(csv_file))
    cli("add", "omer@example.org", "--replace", "--briefing", "israel")
    row = "omer@example.org,Omer,pro,israel,banking;oil-gas,active,"
    assert row in cli("export")
    csv_file.write_text("email,briefings\nomer@example.org,industries;israel\n")
    cli("import", str(csv_file))
    assert "omer@example.org,Omer,pro,industries;israel,banking;oil-gas,active," in cli("export")


def test_an_import_never_resubscribes(write_config: Callable[[str], Path], tmp_path: Path) -> None:
    path = write_config(CONFIG)
    runner = CliRunner()

    def cli(*args: str, config: Path = path) -> str:
        result = runner.invoke(main, ["--config", str(config), "subscribers", *args])
        assert result.exit_code == 0, result.output
        return result.output

    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "email,name,tier,briefings\nomer@example.org,Omer,pro,israel;industries\n"
        "dana@example.org,Dana,free,israel\n"
    )
    cli("import", str(csv_file))
    store = Store(f"sqlite:///{tmp_path}/briefings.db")
    store.unsubscribe("omer@example.org", "israel", now=NOW)  # the one-click link
    store.unsubscribe("dana@example.org", "israel", now=NOW)
    store.close()
    cli("import", str(csv_file))
    listed = cli("list")
    assert "omer@example.org\tpro\tactive\tindustries\n" in listed
    assert "dana@example.org\tfree\tunsubscribed\t\n" in listed
    exported = tmp_path / "export.csv"
    cli("export", str(exported))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    other = fresh / "feeds.toml"
    other.write_text(CONFIG)
    cli("import", str(exported), config=other)
    cli("import", str(csv_file), config=other)  # and the old list again
    assert cli("list", config=other) == listed


def _import(path: Path, csv_file: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["--config", str(path), "subscribers", "import", str(csv_file)]
    )
    listed = CliRunner().invoke(main, ["--config", str(path), "subscribers", "list"])
    return result.exit_code, result.output, listed.output


def test_excel_exports_import_as_they_are(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    """Excel writes a BOM, CRLF, its locale's separator (';' where ',' is the decimal mark,
    a tab for "Unicode Text" in UTF-16), headers as typed, and empty rows at the end."""
    path = write_config(CONFIG)
    semicolons = tmp_path / "excel-semicolons.csv"
    semicolons.write_bytes(
        "\ufeffEmail;Name;Tier;Briefings;Industries\r\n"
        'selin@example.org;Selin Yıldız;PRO;israel;"banking;oil-gas"\r\n'
        '"aram@example.org";"Aram, Jr.";free;israel;\r\n'
        ";;;;\r\n;;;;\r\n".encode()
    )
    code, output, listed = _import(path, semicolons)
    assert code == 0, output
    assert "2 added, 0 updated, 0 unchanged, 0 rows refused" in output
    assert "selin@example.org\tpro\tactive\tisrael\n" in listed
    assert "aram@example.org\tfree\tactive\tisrael\n" in listed
    tabs = tmp_path / "excel-unicode-text.txt"
    tabs.write_bytes("email\tname\tbriefings\r\nnoa@example.org\tנועה\tisrael\r\n".encode("utf-16"))
    code, output, listed = _import(path, tabs)
    assert code == 0, output
    assert "noa@example.org\tfree\tactive\tisrael\n" in listed
    for codec in ("utf-16-le", "utf-16-be"):  # no BOM: it was "missing column 'email'"
        bare = tmp_path / f"{codec}.csv"
        bare.write_bytes(
            f"email,name,briefings\r\nlev.{codec}@example.org,לב,israel\r\n".encode(codec)
        )
        code, output, listed = _import(path, bare)
        assert code == 0, output
        assert f"lev.{codec}@example.org\tfree\tactive\tisrael\n" in listed


def test_a_line_that_is_not_utf8_is_refused_alone(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    path = write_config(CONFIG)
    csv_file = tmp_path / "legacy.csv"
    csv_file.write_bytes(
        b"email,name,briefings\nayse@example.org,Ay\xfee,israel\nomer@example.org,Omer,israel\n"
    )
    code, output, listed = _import(path, csv_file)
    assert code == 1
    assert "1 added, 0 updated, 0 unchanged, 1 row refused" in output
    assert f"{csv_file}:2: not UTF-8 text (byte 0xFE); save the file as UTF-8" in output
    assert "omer@example.org" in listed and "ayse@" not in listed


def test_an_unclosed_quote_costs_only_its_line(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    path = write_config(CONFIG)
    csv_file = tmp_path / "quote.csv"
    csv_file.write_text(
        'email,name,briefings\n"dana@example.org,Dana,israel\n'
        "omer@example.org,Omer,israel\neli@example.org,Eli,israel\n"
    )
    code, output, listed = _import(path, csv_file)
    assert code == 1
    assert "2 added, 0 updated, 0 unchanged, 1 row refused" in output
    assert f"{csv_file}:2: a quote opened on this line is not closed" in output
    assert "omer@example.org" in listed and "eli@example.org" in listed


def test_an_address_given_twice_is_reported_not_silently_merged(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    path = write_config(CONFIG)
    csv_file = tmp_path / "twice.csv"
    csv_file.write_text(
        "email,name,tier,briefings\nDana@example.org,Dana,free,israel\n"
        "omer@example.org,Omer,free,israel\ndana@EXAMPLE.org,Dana Levi,pro,industries\n"
    )
    code, output, listed = _import(path, csv_file)
    assert code == 1
    assert "2 added, 0 updated, 0 unchanged, 1 row refused" in output
    assert f"{csv_file}:4: dana@example.org is already on line 2" in output
    assert "Dana@example.org\tfree\tactive\tisrael\n" in listed


def test_a_mailing_service_export_imports_with_its_extra_columns_ignored(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    """Mailchimp writes ``Email Address``, ``First Name``, ``Last Name`` and a dozen columns of
    its own; Substack ``email``, ``name`` and its own. Both were refused whole."""
    path = write_config(CONFIG)
    mailchimp = tmp_path / "members_export.csv"
    mailchimp.write_text(
        "Email Address,First Name,Last Name,Address,Phone Number,MEMBER_RATING,TAGS\n"
        'selin@example.org,Selin,Yıldız,,,2,"pro,israel"\n'
        "aram@example.org,Aram,,,,3,\n"
    )
    code, output, listed = _import(path, mailchimp)
    assert code == 0, output
    assert "2 added, 0 updated, 0 unchanged, 0 rows refused" in output
    assert (
        f"note: {mailchimp}: columns ignored: Address, Phone Number, MEMBER_RATING, TAGS" in output
    )
    exported = CliRunner().invoke(main, ["--config", str(path), "subscribers", "export"])
    assert "selin@example.org,Selin Yıldız,free," in exported.output
    assert "aram@example.org,Aram,free," in exported.output
    substack = tmp_path / "substack.csv"
    substack.write_text("email,active_subscription,plan,name\nnoa@example.org,true,yearly,Noa\n")
    code, output, listed = _import(path, substack)
    assert code == 0, output
    assert "noa@example.org\tfree\tactive\t\n" in listed


def test_a_misspelt_column_refuses_the_file_rather_than_lose_its_data() -> None:
    parsed = subscribers.parse_csv(
        "email,tier,industires\nx@example.org,pro,banking\n",
        "subs.csv",
        known_briefings=[],
        known_industries=["banking"],
    )
    assert parsed.subscribers == ()
    assert parsed.problems == (
        "subs.csv:1: unknown column 'industires' (did you mean 'industries'?); no row was "
        "read (the columns are email,name,tier,briefings,industries)",
    )


def test_picks_written_as_people_write_them(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    """Industries and briefings by title or id, in any case, with '&' or 'and', separated by
    ';', ',' or '|'; a typo names the closest id."""
    path = write_config(CONFIG)
    picks = tmp_path / "picks.csv"
    picks.write_bytes(
        "\ufeffemail;tier;briefings;industries\r\n"
        "a@example.org;pro;PRO Industry Weekly, Israel Briefing;Oil and Gas, BANKING\r\n"
        "b@example.org;pro;industries|israel;banking | oil-gas\r\n"
        "c@example.org;pro;industries;Oil & Gas\r\n"
        "d@example.org;pro;industries;oil-gaz\r\n"
        "e@example.org;pro;israel;banking;oil-gas\r\n".encode()
    )
    code, output, _ = _import(path, picks)
    assert code == 1
    assert "3 added, 0 updated, 0 unchanged, 2 rows refused" in output
    assert f"{picks}:5: unknown industry 'oil-gaz' (did you mean 'oil-gas'?)" in output
    assert f"{picks}:6: 5 cells, but the header has 4 (quote a cell that holds ';')" in output
    exported = CliRunner().invoke(main, ["--config", str(path), "subscribers", "export"])
    rows = exported.output.splitlines()
    assert "a@example.org,,pro,industries;israel,oil-gas;banking,active," in rows
    assert "b@example.org,,pro,industries;israel,banking;oil-gas,active," in rows
    assert "c@example.org,,pro,industries,oil-gas,active," in rows


def test_addresses_as_address_books_copy_them(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    """``Name <address>`` gives the address (and the name, when the row has none); an
    internationalised domain is kept in its ASCII form, which every mail server takes."""
    path = write_config(CONFIG)
    people = tmp_path / "people.csv"
    people.write_text(
        "email,name,briefings\n"
        '"Dana Levi <dana@example.org>",,israel\n'
        '"Omer <omer@example.org>",Omer Ben-David,israel\n'
        "user@Bücher.de,,israel\n"
        "joe+news@example.org,,israel\n"
    )
    code, output, _ = _import(path, people)
    assert code == 0, output
    exported = CliRunner().invoke(main, ["--config", str(path), "subscribers", "export"])
    rows = exported.output.splitlines()
    assert "dana@example.org,Dana Levi,free,israel,,active," in rows
    assert "omer@example.org,Omer Ben-David,free,israel,,active," in rows
    assert "user@xn--bcher-kva.de,,free,israel,,active," in rows
    assert "joe+news@example.org,,free,israel,,active," in rows
    assert subscribers.normal_address("x@BÜCHER.de") == "x@xn--bcher-kva.de"


def test_add_and_remove_take_an_address_as_address_books_copy_it(
    write_config: Callable[[str], Path],
) -> None:
    """An import and ``send --to`` took ``Dana Levi <dana@example.org>``, but ``subscribers
    add`` refused it: "'Dana Levi <dana@example.org>' is not an email address"."""
    path = write_config(CONFIG)
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(main, ["--config", str(path), "subscribers", *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert cli("add", "Dana Levi <dana@example.org>", "--briefing", "israel") == (
        "added dana@example.org\n"
    )
    assert cli("add", "Omer <omer@example.org>", "--name", "Omer Ben-David") == (
        "added omer@example.org\n"
    )
    exported = cli("export").splitlines()
    assert "dana@example.org,Dana Levi,free,israel,,active," in exported
    assert "omer@example.org,Omer Ben-David,free,,,active," in exported
    assert cli("remove", "Dana Levi <dana@example.org>", "--briefing", "israel") == (
        "updated dana@example.org\n"
    )
    assert cli("remove", "Dana Levi <dana@example.org>") == "removed dana@example.org\n"


def test_the_editor_is_told_when_a_reader_is_not_put_back(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    """Asking an import or ``add`` to put a reader back on a briefing they unsubscribed from
    changes nothing, as before, but it said only "updated" or "unchanged"."""
    path = write_config(CONFIG)
    runner = CliRunner()
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email,briefings\nomer@example.org,israel;industries\n")
    runner.invoke(main, ["--config", str(path), "subscribers", "import", str(csv_file)])
    store = Store(f"sqlite:///{tmp_path}/briefings.db")
    store.unsubscribe("omer@example.org", "israel", now=NOW)  # the one-click link
    store.close()
    again = runner.invoke(main, ["--config", str(path), "subscribers", "import", str(csv_file)])
    assert again.exit_code == 0, again.output
    assert (
        f"note: {csv_file}:2: omer@example.org unsubscribed from israel; not put back (only "
        "they can subscribe again, on their preferences page)"
    ) in again.output
    added = runner.invoke(
        main,
        [
            *("--config", str(path), "subscribers", "add", "omer@example.org"),
            *("--briefing", "israel", "--briefing", "industries"),
        ],
    )
    assert added.exit_code == 0, added.output
    assert "note: omer@example.org unsubscribed from israel; not put back" in added.output
    listed = runner.invoke(main, ["--config", str(path), "subscribers", "list"])
    assert "omer@example.org\tfree\tactive\tindustries\n" in listed.output


def test_listing_the_subscribers_of_a_misspelt_briefing_says_so(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config(CONFIG)
    runner = CliRunner()
    added = runner.invoke(
        main,
        ["--config", str(path), "subscribers", "add", "ana@example.org", "--briefing", "israel"],
    )
    assert added.exit_code == 0, added.output
    typo = runner.invoke(
        main, ["--config", str(path), "subscribers", "list", "--briefing", "isreal"]
    )
    assert typo.exit_code == 2
    assert "briefings.isreal: no such briefing (known: industries, israel)" in typo.output
    # a briefing taken out of feeds.toml still has its subscribers in the store
    path.write_text("[briefings.industries]" + CONFIG.split("[briefings.industries]")[1])
    listed = runner.invoke(
        main, ["--config", str(path), "subscribers", "list", "--briefing", "israel"]
    )
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == ["ana@example.org\tfree\tactive\tisrael", "1 subscriber"]


def test_add_adds_and_replacing_or_taking_off_is_explicit(
    write_config: Callable[[str], Path],
) -> None:
    """``add --briefing`` replaced a reader's briefings: adding Turkey to a reader of Israel
    silently stopped their Israel Briefing."""
    path = write_config(
        CONFIG + '\n[briefings.turkey]\ntitle = "Turkey Briefing"\nschedule = "0 7 * * *"\n'
    )
    runner = CliRunner()

    def cli(*args: str, status: int = 0) -> str:
        result = runner.invoke(main, ["--config", str(path), "subscribers", *args])
        assert result.exit_code == status, result.output
        return result.output

    def row() -> str:
        [line] = [s for s in cli("list").splitlines() if "@" in s]
        return line

    cli("add", "ana@example.org", "--briefing", "israel", "--tier", "pro")
    cli("add", "ana@example.org", "--industry", "banking")
    assert cli("add", "ana@example.org", "--briefing", "Turkey Briefing") == (
        "updated ana@example.org\n"
    )
    assert row() == "ana@example.org\tpro\tactive\tisrael;turkey"
    cli("add", "ana@example.org", "--briefing", "industries", "--industry", "oil-gas")
    assert row() == "ana@example.org\tpro\tactive\tisrael;turkey;industries"
    assert "ana@example.org,,pro,israel;turkey;industries,banking;oil-gas," in cli("export")

    out = cli("add", "ana@example.org", "--replace", "--briefing", "turkey")
    assert out == "updated ana@example.org\n"
    assert row() == "ana@example.org\tpro\tactive\tturkey"
    assert ",turkey,banking;oil-gas," in cli("export")  # industries not given: kept
    cli("add", "ana@example.org", "--replace", "--industry", "oil-gas", "--industry", "banking")
    assert ",turkey,oil-gas;banking," in cli("export")
    refused = cli("add", "ana@example.org", "--replace", "--tier", "free", status=2)
    assert "--replace needs --briefing or --industry" in refused

    cli("add", "ana@example.org", "--briefing", "israel")
    assert cli("remove", "ana@example.org", "--briefing", "turkey") == "updated ana@example.org\n"
    assert row() == "ana@example.org\tpro\tactive\tisrael"
    taken = cli("remove", "ana@example.org", "--briefing", "turkey", "--industry", "banking")
    assert taken.splitlines() == [
        "updated ana@example.org",
        "note: ana@example.org does not receive turkey",
    ]
    assert ",israel,oil-gas,active," in cli("export")
    typo = cli("remove", "ana@example.org", "--briefing", "isreal", status=2)
    assert "unknown briefing 'isreal' (did you mean 'israel'?)" in typo
    missing = cli("remove", "x@example.org", "--briefing", "israel", status=1)
    assert "no subscriber 'x@example.org'" in missing
    assert row() == "ana@example.org\tpro\tactive\tisrael"  # taken off, not unsubscribed
    assert cli("remove", "ana@example.org") == "removed ana@example.org\n"
    assert cli("list").strip() == "0 subscribers"
