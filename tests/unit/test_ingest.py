"""Reading import CSVs: typed rows, and every bad row named by line and column (SPEC §9, §10)."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynbooks.ingest import (
    PRESETS,
    IngestError,
    ParsedFile,
    RowError,
    normalise_domain,
    read_csv,
    read_mapping,
    reject_rows,
    salesforce_id,
    write_rejects,
)
from dynbooks.ingest.reader import MAX_CELL_CHARS, _chunks, _records
from dynbooks.ingest.values import counts, floats, to_count, to_float


def write(tmp_path: Path, text: str | bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_bytes(text.encode("utf-8"))
    else:
        path.write_bytes(text)
    return path


def messages(parsed: ParsedFile) -> list[str]:
    return [str(e) for e in parsed.errors]


# --- good files ---------------------------------------------------------------------------------


def test_a_good_accounts_file_gives_typed_rows_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "account_id,name,domain,industry,employees,annual_revenue,fit_score,is_customer,owner_sdr,inbound,tier\n"
        "A1,Acme,https://www.Acme.com/about,Software,120,1500000.5,71.5,false,sdr-1,true,gold\n"
        "A2,Beta,beta.io,,,,,,,,\n"
    ))
    parsed = read_csv(path, "accounts")
    assert parsed.errors == []
    assert parsed.lines == [2, 3]
    assert parsed.custom_columns == ["inbound", "tier"]
    assert parsed.rows[0] == {
        "account_id": "A1", "name": "Acme", "domain": "acme.com", "industry": "Software", "employees": 120,
        "annual_revenue": 1500000.5, "fit_score": 71.5, "is_customer": False, "owner_sdr": "sdr-1",
        "custom": {"inbound": True, "tier": "gold"}, "duplicate_key": "acme.com",
    }
    second = parsed.rows[1]
    assert second["employees"] is None and second["owner_sdr"] is None
    assert second["custom"] == {"inbound": None, "tier": None}
    assert "country" not in second  # a column the file does not have gives no key at all


def test_custom_fields_become_bools_and_numbers_but_leading_zeros_stay_text(tmp_path: Path) -> None:
    path = write(tmp_path, "account_id,name,a,b,c,d,e\nA1,Acme,TRUE,12,-1.5,02134,yes\n")
    row = read_csv(path, "accounts").rows[0]
    assert row["custom"] == {"a": True, "b": 12, "c": -1.5, "d": "02134", "e": "yes"}


def test_unknown_columns_are_ignored_for_kinds_other_than_accounts(tmp_path: Path) -> None:
    path = write(tmp_path, "rep_id,name,book_rule,Favourite Colour\nr1,Ann,smb-sdr,blue\n")
    parsed = read_csv(path, "reps")
    assert parsed.rows == [{"rep_id": "r1", "name": "Ann", "book_rule": "smb-sdr", "active": True}]
    assert parsed.custom_columns == []


def test_reps_are_active_unless_the_file_says_otherwise(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "rep_id,name,book_rule,active,start_date,unavailable_until\n"
        "r1,Ann,smb,,2025-01-06,\nr2,Bob,smb,no,,2026-03-20\nr3,Cy,smb,Y,,\n"
    ))
    rows = read_csv(path, "reps").rows
    assert [r["active"] for r in rows] == [True, False, True]
    assert rows[0]["start_date"] == date(2025, 1, 6)
    assert rows[1]["unavailable_until"] == date(2026, 3, 20)


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("FALSE", False), ("1", True), ("0", False), ("Yes", True), ("no", False), ("y", True),
    ("N", False),
])
def test_booleans_accept_true_false_one_zero_yes_no_y_n(tmp_path: Path, text: str, expected: bool) -> None:
    path = write(tmp_path, f"account_id,name,is_customer\nA1,Acme,{text}\n")
    assert read_csv(path, "accounts").rows[0]["is_customer"] is expected


def test_times_are_aware_utc_whether_given_as_a_date_a_naive_or_an_offset_time(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "account_id,rep_id,type,occurred_at\n"
        "A1,r1,call,2026-01-05\n"
        "A1,r1,call,2026-01-05T10:30:00\n"
        "A1,r1,call,2026-01-05T10:30:00+02:00\n"
        "A1,r1,call,2026-01-05T10:30:00.000+0000\n"
    ))
    times = [r["occurred_at"] for r in read_csv(path, "activities").rows]
    assert times == [
        datetime(2026, 1, 5, tzinfo=UTC),
        datetime(2026, 1, 5, 10, 30, tzinfo=UTC),
        datetime(2026, 1, 5, 8, 30, tzinfo=UTC),
        datetime(2026, 1, 5, 10, 30, tzinfo=UTC),
    ]
    assert all(t.utcoffset() == timedelta(0) for t in times)


def test_an_activity_without_an_id_gets_a_stable_id_from_its_content(tmp_path: Path) -> None:
    text = "activity_id,account_id,rep_id,type,occurred_at\n,A1,r1,call,2026-01-05\nX9,A1,r1,call,2026-01-06\n"
    first = read_csv(write(tmp_path, text, "a.csv"), "activities").rows
    again = read_csv(write(tmp_path, text, "b.csv"), "activities").rows
    expected = "h:" + hashlib.sha1(b"A1|r1|call|2026-01-05T00:00:00+00:00").hexdigest()
    assert first[0]["activity_id"] == again[0]["activity_id"] == expected
    assert first[1]["activity_id"] == "X9"


def test_a_signal_without_an_id_column_gets_a_derived_id(tmp_path: Path) -> None:
    path = write(tmp_path, "account_id,type,strength,occurred_at,expires_at\nA1,funding,30,2026-01-05,2026-04-05\n")
    row = read_csv(path, "signals").rows[0]
    assert row["signal_id"] == "h:" + hashlib.sha1(b"A1|funding|2026-01-05T00:00:00+00:00").hexdigest()
    assert row["strength"] == 30.0
    assert row["expires_at"] == datetime(2026, 4, 5, tzinfo=UTC)


def test_opportunities_are_typed(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "opportunity_id,account_id,rep_id,created_at,stage,amount,is_closed,is_won,closed_at\n"
        "O1,A1,ae-1,2026-01-05,Closed Won,25000,true,true,2026-02-01\n"
    ))
    row = read_csv(path, "opportunities").rows[0]
    assert row["amount"] == 25000.0 and row["is_closed"] is True and row["is_won"] is True
    assert row["closed_at"] == datetime(2026, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize("website, domain", [
    ("https://www.Acme.com:443/about?x=1#top", "acme.com"),
    ("WWW.Acme.co.uk.", "acme.co.uk"),
    ("http://user@beta.io/", "beta.io"),
    ("gamma.de:8080", "gamma.de"),
    ("delta.com", "delta.com"),
])
def test_a_website_is_reduced_to_its_bare_domain(website: str, domain: str) -> None:
    assert normalise_domain(website) == domain


# --- encodings, line endings, delimiters --------------------------------------------------------


def test_a_bom_is_stripped_from_the_first_column_name(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfaccount_id,name\nA1,Acme\n")
    parsed = read_csv(path, "accounts")
    assert parsed.header == ["account_id", "name"]
    assert parsed.rows[0]["account_id"] == "A1"


def test_crlf_line_endings_read_like_lf(tmp_path: Path) -> None:
    path = write(tmp_path, b"account_id,name\r\nA1,Acme\r\nA2,Beta\r\n")
    parsed = read_csv(path, "accounts")
    assert [r["name"] for r in parsed.rows] == ["Acme", "Beta"]
    assert parsed.lines == [2, 3]


def test_quoted_newlines_keep_later_line_numbers_right(tmp_path: Path) -> None:
    path = write(tmp_path, (
        'account_id,name,employees\r\n'
        'A1,"Acme\r\nHoldings\r\nGroup",10\r\n'   # lines 2-4
        'A2,"Beta\nLtd",twelve\r\n'               # lines 5-6
        'A3,Gamma,x\r\n'                          # line 7
    ))
    parsed = read_csv(path, "accounts")
    assert parsed.rows[0]["name"] == "Acme\r\nHoldings\r\nGroup"
    assert parsed.lines == [2]
    assert messages(parsed) == [
        "line 5, column employees: 'twelve' is not a whole number",
        "line 7, column employees: 'x' is not a whole number",
    ]


def test_line_numbers_stay_right_past_the_first_chunk_of_ten_thousand_rows(tmp_path: Path) -> None:
    body = "".join(f"A{i},Name {i},1\n" for i in range(10_005))
    text = 'account_id,name,employees\nQ,"two\nlines",1\n' + body + "Z,Zed,bad\n"
    parsed = read_csv(write(tmp_path, text), "accounts")
    assert parsed.lines[:2] == [2, 4]
    assert messages(parsed) == [f"line {10_005 + 4}, column employees: 'bad' is not a whole number"]


def test_a_chunk_of_nothing_but_blank_lines_is_skipped(tmp_path: Path) -> None:
    body = "".join(f"A{i},N\n" for i in range(10_000))
    parsed = read_csv(write(tmp_path, "account_id,name\n" + body + "\n\n,\n"), "accounts")
    assert len(parsed.rows) == 10_000 and parsed.errors == []


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    cell = st.text(alphabet="ab,\"\r\n ", max_size=6)
    rows = draw(st.lists(st.lists(cell, min_size=1, max_size=3), max_size=12))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
    writer.writerow(["h1", "h2"])
    for row in rows:
        if draw(st.booleans()):
            out.write(draw(st.sampled_from(["\n", "\r\n"])))  # a blank line
        writer.writerow(row)
    return out.getvalue()


@given(csv_texts(), st.integers(min_value=1, max_value=4))
def test_chunked_reading_finds_the_same_start_lines_as_reading_record_by_record(text: str, size: int) -> None:
    one = csv.reader(io.StringIO(text, newline=""))
    next(one)
    expected = list(_records(one))
    many = csv.reader(io.StringIO(text, newline=""))
    next(many)
    assert [pair for lines, rows in _chunks(many, size) for pair in zip(lines, rows, strict=True)] == expected


def test_a_semicolon_delimited_file_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "account_id;name;annual_revenue\nA1;Acme, Inc.;1000\n")
    parsed = read_csv(path, "accounts")
    assert parsed.delimiter == ";"
    assert parsed.rows[0]["name"] == "Acme, Inc."


def test_latin1_bytes_are_refused_naming_the_line_where_decoding_failed(tmp_path: Path) -> None:
    path = write(tmp_path, "account_id,name\nA1,Acme\nA2,Caf\xe9 M\xfcller\n".encode("latin-1"))
    parsed = read_csv(path, "accounts")
    assert parsed.rows == []
    assert messages(parsed) == ["line 3, column : not UTF-8 text; save it as UTF-8"]


# --- bad rows -----------------------------------------------------------------------------------


def test_every_bad_cell_of_every_row_is_named_with_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "account_id,name,employees,annual_revenue,is_customer\n"
        "A1,Acme,twelve,-5,maybe\n"
        "A2,,10,1e3,true\n"
        "A3,Gamma,1200.0,,\n"
    ))
    parsed = read_csv(path, "accounts")
    assert messages(parsed) == [
        "line 2, column employees: 'twelve' is not a whole number",
        "line 2, column annual_revenue: '-5' is negative (must be 0 or more)",
        "line 2, column is_customer: 'maybe' is not true or false (use true/false, yes/no or 1/0)",
        "line 3, column name: required value is empty",
    ]
    assert parsed.lines == [4]
    assert parsed.rows[0]["employees"] == 1200
    assert [line for line, _ in parsed.rejected] == [2, 3]
    assert parsed.rejected[0][1] == ["A1", "Acme", "twelve", "-5", "maybe"]


def test_a_bad_date_says_which_format_to_use(tmp_path: Path) -> None:
    path = write(tmp_path, "rep_id,name,book_rule,start_date\nr1,Ann,smb,2026-13-01\n")
    assert messages(read_csv(path, "reps")) == [
        "line 2, column start_date: '2026-13-01' is not a date (use YYYY-MM-DD)"
    ]


@pytest.mark.parametrize("null", ["#N/A", "N/A", "NULL", "null", "None", "  "])
def test_spreadsheet_spellings_of_nothing_are_empty(tmp_path: Path, null: str) -> None:
    path = write(tmp_path, f"account_id,name,employees,country\nA1,Acme,{null},{null}\nA2,{null},1,US\n")
    parsed = read_csv(path, "accounts")
    assert parsed.rows[0]["employees"] is None and parsed.rows[0]["country"] is None
    assert messages(parsed) == ["line 3, column name: required value is empty"]


def test_empty_lines_are_skipped_and_do_not_shift_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "account_id,name,employees\n\nA1,Acme,1\n,,\n\nA2,Beta,x\n\n")
    parsed = read_csv(path, "accounts")
    assert parsed.lines == [3]
    assert messages(parsed) == ["line 6, column employees: 'x' is not a whole number"]


def test_a_repeated_id_in_one_file_makes_the_later_row_bad(tmp_path: Path) -> None:
    path = write(tmp_path, "account_id,name\nA0,Zero\nX1,Acme\nA2,Beta\nX1,Acme again\nX1,Thrice\n")
    parsed = read_csv(path, "accounts")
    assert parsed.lines == [2, 3, 4]
    assert messages(parsed) == [
        "line 5, column account_id: duplicate account_id 'X1' (first on line 3)",
        "line 6, column account_id: duplicate account_id 'X1' (first on line 3)",
    ]


def test_a_row_with_the_wrong_number_of_cells_is_bad(tmp_path: Path) -> None:
    path = write(tmp_path, "account_id,name,country,region\nA1,Acme,US,CA,extra\nA2,Beta\nA3,Gamma,US,NY\n")
    parsed = read_csv(path, "accounts")
    assert messages(parsed) == [
        "line 2, column : row has 5 cells, the header has 4",
        "line 3, column : row has 2 cells, the header has 4",
    ]
    assert parsed.lines == [4]


def test_a_missing_required_column_is_one_error_and_no_row_is_used(tmp_path: Path) -> None:
    path = write(tmp_path, "account_id,industry\nA1,Software\nA2,Retail\n")
    parsed = read_csv(path, "accounts")
    assert messages(parsed) == ["line 1, column name: required column is missing"]
    assert parsed.rows == []
    assert [line for line, _ in parsed.rejected] == [2, 3]


def test_a_column_named_twice_after_mapping_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "account_id,name,Company\nA1,Acme,Acme Inc\n")
    parsed = read_csv(path, "accounts", mapping={"Company": "name"})
    assert messages(parsed) == ["line 1, column name: column appears twice (columns 2 and 3)"]


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    assert messages(read_csv(write(tmp_path, ""), "reps")) == [
        "line 1, column : the first line must be the header row (the file is empty or starts blank)"
    ]


def test_a_cell_over_one_mebibyte_is_a_bad_cell(tmp_path: Path) -> None:
    huge = "x" * (MAX_CELL_CHARS + 1)
    path = write(tmp_path, f'account_id,name,notes\nA1,Acme,"{huge}"\nA2,Beta,short\n')
    parsed = read_csv(path, "accounts")
    assert messages(parsed) == [
        f"line 2, column notes: value is {MAX_CELL_CHARS + 1:,} characters long, "
        f"the limit is {MAX_CELL_CHARS:,} (is a quote left open?)"
    ]
    assert parsed.lines == [3]


def test_a_cell_beyond_what_csv_can_read_refuses_the_file(tmp_path: Path) -> None:
    huge = "x" * (17 << 20)
    parsed = read_csv(write(tmp_path, f'account_id,name\nA1,Acme\nA2,"{huge}"\n'), "accounts")
    assert parsed.rows == []
    assert len(parsed.errors) == 1 and parsed.errors[0].line == 3
    assert "cannot be read from here on" in parsed.errors[0].message


def test_unknown_kind_or_preset_is_a_value_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a\n1\n")
    with pytest.raises(ValueError, match="unknown kind"):
        read_csv(path, "leads")
    with pytest.raises(ValueError, match="unknown preset"):
        read_csv(path, "accounts", preset="pipedrive")


def test_progress_is_reported_every_ten_thousand_rows(tmp_path: Path) -> None:
    body = "".join(f"A{i},N\n" for i in range(25_000))
    seen: list[int] = []
    read_csv(write(tmp_path, "account_id,name\n" + body), "accounts", progress=seen.append)
    assert seen == [10_000, 20_000]


# --- presets and mappings -----------------------------------------------------------------------


@pytest.mark.parametrize("id15, id18", [
    ("001000000000001", "001000000000001AAA"),
    ("a0D30000001n7Pi", "a0D30000001n7PiEAI"),  # gammone.com worked example
    ("0019000000B98de", "0019000000B98deAAB"),  # theblogreaders.com worked example
    ("500x000000003TR", "500x000000003TRAAY"),  # icanhasapex.blogspot.com worked example
])
def test_salesforce_15_character_ids_get_their_checksum_suffix(id15: str, id18: str) -> None:
    assert salesforce_id(id15) == id18
    assert salesforce_id(id18) == id18


def test_an_18_character_salesforce_id_whose_case_was_lost_gets_its_case_back() -> None:
    assert salesforce_id("0019000000B98DEAAB") == "0019000000B98deAAB"
    assert salesforce_id("a0d30000001n7pieai") == "a0D30000001n7PiEAI"


def test_an_18_character_salesforce_id_with_a_contradicting_suffix_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid Salesforce id"):
        salesforce_id("001000000000001AAB")  # suffix says character 11 is upper case, but it is a digit


def test_the_salesforce_preset_maps_an_account_export_and_normalises_ids(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "Id,Name,Website,NumberOfEmployees,BillingCountry,OwnerId,Phone\n"
        "0019000000B98de,Acme,www.acme.com,50,US,005000000000001,555-1234\n"
        "0019000000B98DEAAB,Acme dup,acme.com,50,US,005000000000001AAA,\n"
        "001000000000001AAB,Bad,bad.com,1,US,,\n"
    ))
    parsed = read_csv(path, "accounts", preset="salesforce")
    assert parsed.columns == ["account_id", "name", "domain", "employees", "country", "owner_sdr", "Phone"]
    assert parsed.rows[0]["account_id"] == "0019000000B98deAAB"
    assert parsed.rows[0]["owner_sdr"] == "005000000000001AAA"
    assert parsed.rows[0]["custom"] == {"Phone": "555-1234"}
    assert messages(parsed) == [
        "line 3, column account_id: duplicate account_id '0019000000B98deAAB' (first on line 2)",
        "line 4, column account_id: '001000000000001AAB' is not a valid Salesforce id "
        "(its last 3 characters do not match)",
    ]


def test_task_subtype_stands_in_for_type_only_when_type_is_missing(tmp_path: Path) -> None:
    both = write(tmp_path, "Id,AccountId,OwnerId,Type,TaskSubtype,ActivityDate\nT1,A1,U1,Call,Email,2026-01-05\n")
    assert read_csv(both, "activities", preset="salesforce").rows[0]["type"] == "Call"
    only = write(tmp_path, "Id,AccountId,OwnerId,TaskSubtype,ActivityDate\nT1,A1,U1,Email,2026-01-05\n", "b.csv")
    assert read_csv(only, "activities", preset="salesforce").rows[0]["type"] == "Email"


def test_the_hubspot_preset_maps_a_company_export(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "Record ID,Company name,Company Domain Name,Number of Employees,Country/Region,Company owner\n"
        "123,Acme,acme.com,40,United States,Jane Doe\n"
    ))
    row = read_csv(path, "accounts", preset="hubspot").rows[0]
    assert row["account_id"] == "123" and row["owner_sdr"] == "Jane Doe" and row["employees"] == 40
    assert row["country"] == "United States"


def test_every_preset_covers_every_kind() -> None:
    for preset in PRESETS.values():
        assert set(preset) == {"accounts", "reps", "activities", "signals", "opportunities"}


def test_a_mapping_entry_wins_over_the_preset_and_errors_name_the_mapped_column(tmp_path: Path) -> None:
    path = write(tmp_path, "Id,Name,OwnerId,Headcount\n0019000000B98de,Acme,005000000000001,lots\n")
    parsed = read_csv(path, "accounts", preset="salesforce",
                      mapping={"OwnerId": "owner_ae", "Headcount": "employees"})
    assert parsed.columns == ["account_id", "name", "owner_ae", "employees"]
    assert messages(parsed) == ["line 2, column employees: 'lots' is not a whole number"]


def test_a_mapping_may_rename_the_output_of_a_preset(tmp_path: Path) -> None:
    path = write(tmp_path, "Id,Name,OwnerId\n0019000000B98de,Acme,005000000000001\n")
    parsed = read_csv(path, "accounts", preset="salesforce", mapping={"owner_sdr": "owner_ae"})
    assert parsed.rows[0]["owner_ae"] == "005000000000001AAA"


def test_a_mapping_file_is_read_into_a_dict(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbffrom,to\r\nCompany, name\r\n\r\nWeb Site,domain\r\n", "map.csv")
    assert read_mapping(path) == {"Company": "name", "Web Site": "domain"}


def test_a_bad_mapping_file_names_every_bad_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "from,to\nCompany,name\n,domain\nCompany,account_id\nX,\n", "map.csv")
    with pytest.raises(IngestError) as caught:
        read_mapping(path)
    assert [str(e) for e in caught.value.errors] == [
        "line 3, column from: required value is empty",
        "line 4, column from: 'Company' is mapped twice (first on line 2)",
        "line 5, column to: required value is empty",
    ]


def test_a_mapping_file_without_from_and_to_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="line 1, column to: required column is missing"):
        read_mapping(write(tmp_path, "from,into\na,b\n", "map.csv"))


# --- rows the service rejects later, and the rejects file ---------------------------------------


def test_reject_rows_moves_rows_found_bad_later_and_keeps_errors_sorted(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "account_id,rep_id,type,occurred_at\n"
        "A1,r1,call,2026-01-05\n"
        "A2,r1,call,someday\n"
        "A404,r1,call,2026-01-05\n"
        'A3,r1,"multi\nline",2026-01-05\n'
    ))
    parsed = read_csv(path, "activities")
    later = [RowError(5, "rep_id", "unknown rep 'r1'"), RowError(4, "account_id", "unknown account 'A404'")]
    after = reject_rows(parsed, later)
    assert after.lines == [2]
    assert [r["account_id"] for r in after.rows] == ["A1"]
    assert [str(e) for e in after.errors] == [
        "line 3, column occurred_at: 'someday' is not a date or date-time "
        "(use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, optionally with Z or ±HH:MM)",
        "line 4, column account_id: unknown account 'A404'",
        "line 5, column rep_id: unknown rep 'r1'",
    ]
    assert after.rejected == [
        (3, ["A2", "r1", "call", "someday"]),
        (4, ["A404", "r1", "call", "2026-01-05"]),
        (5, ["A3", "r1", "multi\nline", "2026-01-05"]),
    ]
    assert len(parsed.rows) == 3  # the original is left as it was


def test_the_rejects_file_has_the_original_columns_plus_error(tmp_path: Path) -> None:
    path = write(tmp_path, "account_id,name,employees\nA1,Acme,ten\nA2\nA3,Gamma,3\n")
    parsed = read_csv(path, "accounts")
    out = tmp_path / "rejects.csv"
    write_rejects(parsed, out, extra_errors={2: "also: looks like a test"})
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["account_id", "name", "employees", "error"],
        ["A1", "Acme", "ten", "line 2, column employees: 'ten' is not a whole number; also: looks like a test"],
        ["A2", "", "", "line 3, column : row has 1 cells, the header has 3"],
    ]


def test_when_the_header_is_unusable_every_rejected_row_carries_its_error(tmp_path: Path) -> None:
    parsed = read_csv(write(tmp_path, "account_id\nA1\nA2\n"), "accounts")
    out = tmp_path / "rejects.csv"
    write_rejects(parsed, out)
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[1:] == [
        ["A1", "line 1, column name: required column is missing"],
        ["A2", "line 1, column name: required column is missing"],
    ]


# --- the fast column converters agree with the cell converters ----------------------------------


@given(st.lists(st.one_of(st.integers(-10**6, 10**6).map(str), st.text(alphabet="0123456789.-e x", min_size=1)),
                min_size=1, max_size=8))
def test_column_converters_either_agree_with_cell_converters_or_defer_to_them(cells: list[str]) -> None:
    for batch, single in ((counts, to_count), (floats, to_float)):
        try:
            fast = batch(cells)
        except (ValueError, KeyError):
            continue
        assert fast == [single(c) for c in cells]



def test_good_rows_are_held_column_by_column_bad_rows_leave_every_column_and_equal_customs_share_one_dict(
    tmp_path: Path,
) -> None:
    lines = ["account_id,name,employees,inbound"]
    lines += [f"A{i},Acme {i},{'many' if i == 3 else i},{'true' if i % 2 else 'false'}" for i in range(8)]
    parsed = read_csv(write(tmp_path, "\n".join(lines) + "\n"), "accounts")
    assert [e.line for e in parsed.errors] == [5]
    assert parsed.count == 7 and parsed.lines == [2, 3, 4, 6, 7, 8, 9]
    assert parsed.values["account_id"] == ["A0", "A1", "A2", "A4", "A5", "A6", "A7"]
    assert parsed.values["employees"] == [0, 1, 2, 4, 5, 6, 7]
    assert all(len(column) == 7 for column in parsed.values.values())
    customs = parsed.values["custom"]
    assert customs == [{"inbound": i % 2 == 1} for i in (0, 1, 2, 4, 5, 6, 7)]
    assert len({id(c) for c in customs}) == 2  # seven rows, two distinct values, two dicts
    assert parsed.rows[3] == {"account_id": "A4", "name": "Acme 4", "employees": 4, "custom": {"inbound": False},
                              "duplicate_key": None}


def test_activities_without_an_id_column_get_derived_ids_in_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "account_id,rep_id,type,occurred_at\nA1,r1,call,2026-03-01\nA1,r1,call,2026-03-02\n")
    parsed = read_csv(path, "activities")
    ids = parsed.values["activity_id"]
    assert len(ids) == 2 and len(set(ids)) == 2 and all(i.startswith("h:") for i in ids)
