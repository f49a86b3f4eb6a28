import pytest

from mucode.benchmarks.rows import RawRow, field, prefixed_id_field, read_rows, str_list_field
from mucode.core.errors import DatasetError


def test_json_array_rows_carry_their_start_line(tmp_path):
    path = tmp_path / "data.json"
    path.write_text('[\n  {"a": 1},\n  {\n    "a": 2\n  }\n]', encoding="utf-8")
    rows = read_rows(path)
    assert [r.where for r in rows] == [f"{path}:2", f"{path}:3"]
    assert [r.data["a"] for r in rows] == [1, 2]


def test_empty_json_array(tmp_path):
    path = tmp_path / "data.json"
    path.write_text("[]", encoding="utf-8")
    assert read_rows(path) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1}', r":1: expected a JSON array"),
        ('[\n{"a": 1},\n{"a": }\n]', r":3: not valid JSON"),
        ('[\n{"a": 1},\n[1, 2]\n]', r":3: expected a JSON object, got list"),
        ('[\n{"a": 1}\n{"a": 2}]', r":3: expected ',' or '\]'"),
    ],
)
def test_malformed_json_array_names_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError, match=rf"bad\.json{message}"):
        read_rows(path)


def test_jsonl_rows_use_stream_jsonl_line_numbers(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n', encoding="utf-8")
    assert [r.where for r in read_rows(path)] == [f"{path}:1", f"{path}:3"]


def test_missing_file_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="cannot read"):
        read_rows(tmp_path / "nope.json")


ROW = RawRow("f.jsonl:7", {"n": 3, "flag": True, "tests": ["a", 2], "task_id": "Mbpp/x"})


def test_field_errors_name_the_place_and_the_field():
    with pytest.raises(DatasetError, match=r"f\.jsonl:7: missing field 'code'; expected a, b"):
        field(ROW, "code", str, "a, b")
    with pytest.raises(DatasetError, match=r"f\.jsonl:7: field 'n' should be str, got int \(3\)"):
        field(ROW, "n", str, "")
    with pytest.raises(DatasetError, match=r"field 'flag' should be int, got bool"):
        field(ROW, "flag", int, "")
    with pytest.raises(DatasetError, match=r"field 'tests'\[1\] should be str, got int"):
        str_list_field(ROW, "tests", "")
    with pytest.raises(DatasetError, match=r"task_id 'Mbpp/x' is not of the form 'Mbpp/<n>'"):
        prefixed_id_field(ROW, "Mbpp", "")
    assert field(ROW, "n", (int, float), "") == 3
