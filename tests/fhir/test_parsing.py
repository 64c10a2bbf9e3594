"""Reading and validating: R4 shapes accepted as the specification writes them, R5 and broken
resources refused with a reason, files read entry by entry and line by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm.fhir import reading
from crm.fhir.reading import Entry, files, read
from crm.fhir.resources import Refused, validate, version_of
from tests.fhir import builders as b


def test_r4_resources_validate_as_the_specification_writes_them():
    # R4: Encounter.class is one Coding, Appointment.participant.actor a Reference.
    encounter = validate(b.encounter())
    appointment = validate(b.appointment())
    patient = validate(b.patient())

    assert encounter.class_fhir.code == "AMB"
    assert appointment.participant[0].actor.reference == "Patient/pat-1"
    assert patient.name[0].family == "Testpatient"


def test_an_r5_encounter_class_list_is_refused_naming_the_field():
    r5 = b.encounter(**{"class": [{"coding": [{"system": b.ACT, "code": "AMB"}]}]})

    with pytest.raises(Refused, match="at class"):
        validate(r5)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b.encounter(status="completed"), "'completed' is not an R4 Encounter status"),
        (b.appointment(status="done"), "'done' is not an R4 Appointment status"),
        (b.patient(birthDate="12/04/1980"), "at birthDate"),
        (b.patient(unknownField=1), "at unknownField"),
    ],
)
def test_a_resource_that_fails_validation_is_refused_with_the_reason(raw, reason):
    with pytest.raises(Refused, match=reason):
        validate(raw)


def test_the_version_is_meta_version_id_or_a_digest_of_the_content():
    versioned = b.patient()
    unversioned = b.patient(meta={})

    assert version_of(versioned) == "1"
    assert version_of(unversioned) == version_of(b.patient(meta={}))
    assert version_of(unversioned) != version_of(b.patient(meta={}, birthDate="1980-04-13"))


def test_ndjson_is_read_line_by_line_and_a_bad_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "Patient.ndjson"
    path.write_text(
        json.dumps(b.patient("p1"))
        + "\n\n"
        + '{"resourceType": "Patient", "id": \n'
        + json.dumps(b.patient("p2"))
        + "\n"
    )

    entries = list(read(path))

    assert [e.key for e in entries if not e.error] == ["Patient/p1", "Patient/p2"]
    bad = [e for e in entries if e.error]
    assert [(e.where, e.error.split(":")[0]) for e in bad] == [("line 3", "invalid JSON")]


def test_a_later_pass_reads_only_lines_of_its_type_without_parsing_the_rest(tmp_path):
    path = b.write_ndjson(tmp_path / "all.ndjson", b.patient(), b.encounter(), b.appointment())

    entries = list(read(path, "Encounter".__eq__, '"Encounter"'))

    assert [e.key for e in entries] == ["Encounter/enc-1"]


def test_a_later_pass_still_reads_a_line_whose_type_is_spelled_with_escapes(tmp_path):
    # "Appointm\u0065nt" is JSON for "Appointment", though a search of the text misses it.
    escaped = json.dumps(b.appointment()).replace('"Appointment"', '"Appointm\\u0065nt"', 1)
    path = tmp_path / "escaped.ndjson"
    path.write_text(json.dumps(b.encounter()) + "\n" + escaped + "\n")

    entries = list(read(path, "Appointment".__eq__, '"Appointment"'))

    assert [(e.resource_type, e.key) for e in entries] == [("Appointment", "Appointment/apt-1")]


def test_a_bundle_on_an_ndjson_line_is_read_entry_by_entry(tmp_path):
    path = b.write_ndjson(
        tmp_path / "bundles.ndjson", b.patient(), b.bundle(b.encounter(), b.appointment())
    )

    everything = [(e.where, e.key) for e in read(path)]
    encounters = [(e.where, e.key) for e in read(path, "Encounter".__eq__, '"Encounter"')]

    assert everything == [
        ("line 1", "Patient/pat-1"),
        ("line 2, entry 1", "Encounter/enc-1"),
        ("line 2, entry 2", "Appointment/apt-1"),
    ]
    assert encounters == [("line 2, entry 1", "Encounter/enc-1")]


@pytest.mark.parametrize("kind", ["transaction", "batch", "collection", "searchset"])
def test_bundles_of_every_imported_type_are_read_entry_by_entry(tmp_path, kind):
    path = b.write_json(tmp_path / "b.json", b.bundle(b.patient(), b.encounter(), kind=kind))

    assert [e.key for e in read(path)] == ["Patient/pat-1", "Encounter/enc-1"]


def test_a_document_bundle_is_refused_for_the_whole_file(tmp_path):
    path = b.write_json(tmp_path / "doc.json", b.bundle(b.patient(), kind="document"))

    [entry] = read(path)

    assert "a Bundle of type 'document' is not imported" in entry.error


def test_a_transaction_entry_without_id_is_named_by_its_full_url(tmp_path):
    resource = b.patient()
    del resource["id"]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
                "resource": resource,
                "request": {"method": "POST", "url": "Patient"},
            },
            {"request": {"method": "DELETE", "url": "Patient/old"}},
        ],
    }
    [entry] = read(b.write_json(tmp_path / "t.json", bundle))

    assert entry.key == "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"
    assert entry.full_urls[entry.key] == ("Patient", entry.key)


def test_invalid_json_in_a_bundle_file_is_reported_for_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"resourceType": "Bundle", ')

    assert [(e.file, e.error.split(":")[0]) for e in read(path)] == [(str(path), "invalid JSON")]


def test_directories_are_walked_for_fhir_files_in_a_stable_order(tmp_path):
    (tmp_path / "sub").mkdir()
    b.write_ndjson(tmp_path / "sub" / "Encounter.ndjson", b.encounter())
    b.write_ndjson(tmp_path / "Patient.ndjson", b.patient())
    (tmp_path / "notes.txt").write_text("not FHIR")
    # What unzipping on a Mac leaves beside each file: binary, not FHIR.
    (tmp_path / "._Patient.ndjson").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.json").write_text("{}")

    passed_over: list[Path] = []

    assert [p.name for p in files([tmp_path], passed_over)] == [
        "Patient.ndjson",
        "Encounter.ndjson",
    ]
    assert passed_over == [tmp_path / "notes.txt"]  # named in the report; hidden ones not
    with pytest.raises(FileNotFoundError):
        files([tmp_path / "missing"])


def _write_p1_p2_p3_with_p2_in_latin1(path: Path) -> Path:
    """Three patients a line each, the second's line in Latin-1, not UTF-8 ("Testé")."""
    latin1 = json.dumps(
        b.patient("p2", name=[{"family": "Testé", "given": ["Avery"]}]), ensure_ascii=False
    )
    path.write_bytes(
        json.dumps(b.patient("p1")).encode()
        + b"\n"
        + latin1.encode("latin-1")
        + b"\n"
        + json.dumps(b.patient("p3")).encode()
        + b"\n"
    )
    return path


def test_json_lines_are_read_as_ndjson_a_line_at_a_time(tmp_path):
    # A line that is not UTF-8 is refused alone, as in NDJSON; read as one JSON document
    # the whole file would be refused (and held whole) before any line was read.
    _write_p1_p2_p3_with_p2_in_latin1(tmp_path / "Patient.jsonl")

    [path] = files([tmp_path])
    entries = list(read(path))

    assert [e.key for e in entries if not e.error] == ["Patient/p1", "Patient/p3"]
    assert [e.where for e in entries if e.error] == ["line 2"]


def test_an_entry_without_id_or_full_url_has_no_key():
    assert Entry("f", "line 1", resource={"resourceType": "Patient"}).key == ""


def test_a_byte_order_mark_crlf_and_blank_lines_are_read_past(tmp_path):
    # As Windows tools save an export: a UTF-8 BOM, CRLF line ends, blank lines between.
    ndjson = tmp_path / "Patient.ndjson"
    ndjson.write_bytes(
        b"\xef\xbb\xbf"
        + json.dumps(b.patient("p1")).encode()
        + b"\r\n\r\n  \r\n"
        + json.dumps(b.patient("p2")).encode()
        + b"\r\n"
    )
    single = tmp_path / "patient.json"
    single.write_bytes(b"\xef\xbb\xbf" + json.dumps(b.patient("p3")).encode())

    entries = list(read(ndjson)) + list(read(single))

    assert [(e.key, e.error) for e in entries] == [
        ("Patient/p1", ""),
        ("Patient/p2", ""),
        ("Patient/p3", ""),
    ]


def test_a_line_that_is_not_utf8_is_refused_alone_and_the_rest_of_the_file_reads(tmp_path):
    path = _write_p1_p2_p3_with_p2_in_latin1(tmp_path / "Patient.ndjson")

    entries = list(read(path))
    later_pass = list(read(path, "Patient".__eq__, '"Patient"'))

    assert [e.key for e in entries if not e.error] == ["Patient/p1", "Patient/p3"]
    assert [(e.where, e.error.split(" (")[0]) for e in entries if e.error] == [
        ("line 2", "not UTF-8 text")
    ]
    assert [e.key for e in later_pass] == ["Patient/p1", "Patient/p3"]  # reported once


def test_a_bundle_of_bundles_is_read_bundle_by_bundle(tmp_path):
    # A collection of per-patient transactions, as Synthea writes one each: every inner
    # Bundle's entries are read, its urn:uuid fullUrls its own.
    def transaction(pid):
        return {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": f"urn:uuid:{pid}",
                    "resource": b.patient(pid),
                    "request": {"method": "POST", "url": "Patient"},
                },
                {
                    "fullUrl": f"urn:uuid:e-{pid}",
                    "resource": b.encounter(f"e-{pid}", f"urn:uuid:{pid}"),
                    "request": {"method": "POST", "url": "Encounter"},
                },
            ],
        }

    outer = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": transaction("p1")}, {"resource": transaction("p2")}],
    }
    path = tmp_path / "bundles.json"
    path.write_text(json.dumps(outer))

    entries = list(read(path))

    assert [(e.where, e.key) for e in entries] == [
        ("entry 1, entry 1", "Patient/p1"),
        ("entry 1, entry 2", "Encounter/e-p1"),
        ("entry 2, entry 1", "Patient/p2"),
        ("entry 2, entry 2", "Encounter/e-p2"),
    ]
    assert entries[1].full_urls["urn:uuid:p1"] == ("Patient", "Patient/p1")
    assert "urn:uuid:p1" not in entries[3].full_urls


def test_an_entry_with_neither_resource_nor_request_is_reported(tmp_path):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:gone"},
            {"request": {"method": "DELETE", "url": "Patient/p9"}},
            {"resource": b.patient("p1"), "request": {"method": "PUT", "url": "Patient/p1"}},
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))

    entries = list(read(path))

    assert [(e.where, e.key, e.error) for e in entries] == [
        ("entry 1", "", "a Bundle entry with no resource (R4 bdl-5)"),
        ("entry 3", "Patient/p1", ""),
    ]


def test_a_resource_type_that_is_no_fhir_type_name_is_refused_not_skipped(tmp_path):
    path = b.write_ndjson(
        tmp_path / "export.ndjson",
        {**b.patient("p1"), "resourceType": "patient"},
        {**b.patient("p2"), "resourceType": 5},
        b.patient("p3"),
    )

    entries = list(read(path))

    assert [(e.where, e.label, e.error) for e in entries] == [
        ("line 1", "not read", "resourceType 'patient' is not a FHIR type name"),
        ("line 2", "resource p2", "has no resourceType"),
        ("line 3", "Patient/p3", ""),
    ]


def test_a_line_longer_than_the_limit_is_refused_unread_and_the_lines_after_it_read(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(reading, "MAX_LINE_BYTES", 2_000)
    # A whole export minified onto one line, as a tool that writes JSON arrays leaves it.
    long_line = json.dumps([b.patient(f"x{n}") for n in range(20)])
    assert len(long_line) > 2 * reading.MAX_LINE_BYTES
    path = tmp_path / "Patient.ndjson"
    path.write_text(
        json.dumps(b.patient("p1")) + "\n" + long_line + "\n" + json.dumps(b.patient("p3")) + "\n"
    )
    tail = tmp_path / "tail.ndjson"  # the long line last, with no line break after it
    tail.write_text(json.dumps(b.patient("p1")) + "\n" + long_line)

    entries = list(read(path))
    later_pass = list(read(path, "Patient".__eq__, '"Patient"'))

    assert [(e.where, e.key) for e in entries if not e.error] == [
        ("line 1", "Patient/p1"),
        ("line 3", "Patient/p3"),
    ]
    assert [(e.where, e.error.split(", ")[1]) for e in entries if e.error] == [
        ("line 2", "not read: NDJSON holds one resource per line")
    ]
    assert [(e.key, e.error) for e in later_pass] == [("Patient/p1", ""), ("Patient/p3", "")]
    assert [(e.where, bool(e.error)) for e in read(tail)] == [("line 1", False), ("line 2", True)]


def test_a_line_of_exactly_the_limit_is_read_and_one_byte_longer_is_not(tmp_path, monkeypatch):
    line = json.dumps(b.patient("p1"))
    monkeypatch.setattr(reading, "MAX_LINE_BYTES", len(line))
    path = tmp_path / "Patient.ndjson"
    path.write_text(line + "\n" + line)
    longer = tmp_path / "longer.ndjson"
    longer.write_text(line + " \n" + line + "\n")  # a space after it: still valid JSON

    assert [(e.key, e.error) for e in read(path)] == [("Patient/p1", ""), ("Patient/p1", "")]
    assert [(e.where, bool(e.error)) for e in read(longer)] == [("line 1", True), ("line 2", False)]


def test_ndjson_saved_under_a_json_name_is_read_line_by_line(tmp_path):
    path = b.write_ndjson(tmp_path / "Patient.json", b.patient("p1"), b.patient("p2"))

    entries = list(read(path))

    assert [(e.where, e.key, e.error) for e in entries] == [
        ("line 1", "Patient/p1", ""),
        ("line 2", "Patient/p2", ""),
    ]


def test_json_nested_too_deeply_is_refused_and_the_import_goes_on(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    lines = tmp_path / "Patient.ndjson"
    lines.write_text(
        '{"resourceType": "Patient", "id": "p0", "x": '
        + "[" * 100_000
        + "]" * 100_000
        + "}\n"
        + json.dumps(b.patient("p1"))
        + "\n"
    )
    nested: dict = {"url": "http://example.org/x"}
    for _ in range(600):
        nested = {"url": "http://example.org/x", "extension": [nested]}

    entries = list(read(deep)) + list(read(lines))

    assert [(e.where, e.key, e.error) for e in entries] == [
        ("", "", "invalid JSON: nested too deeply to be a FHIR resource"),
        ("line 1", "", "invalid JSON: nested too deeply to be a FHIR resource"),
        ("line 2", "Patient/p1", ""),
    ]
    with pytest.raises(Refused, match="nested too deeply"):
        validate(b.patient(extension=[nested]))
