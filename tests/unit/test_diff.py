"""bins.diff: what differs between two requests."""

from types import SimpleNamespace

from bins.diff import body_changes, compare, header_changes, json_changes
from bins.serializers import MASK


def test_json_changes_name_each_path_added_removed_or_changed():
    a = {"id": "evt_1", "data": {"amount": 100, "tags": ["a", "b"]}, "old": True}
    b = {"id": "evt_1", "data": {"amount": 250, "tags": ["a"]}, "new key": 1}
    assert json_changes(a, b) == [
        {"path": "$.data.amount", "kind": "changed", "a": 100, "b": 250},
        {"path": "$.data.tags[1]", "kind": "removed", "a": "b", "b": None},
        {"path": "$.old", "kind": "removed", "a": True, "b": None},
        {"path": '$["new key"]', "kind": "added", "a": None, "b": 1},
    ]


def test_json_changes_tell_one_from_true_and_ints_from_strings():
    assert json_changes({"x": 1}, {"x": True})[0]["kind"] == "changed"
    assert json_changes([1], ["1"]) == [{"path": "$[0]", "kind": "changed", "a": 1, "b": "1"}]


def test_header_changes_compare_names_in_any_case_and_keep_repeats():
    a = [["X-Sig", "one"], ["Accept", "*/*"], ["X-Dup", "1"], ["X-Dup", "2"]]
    b = [["x-sig", "two"], ["Accept", "*/*"], ["X-Dup", "1"], ["X-New", "n"]]
    assert header_changes(a, b) == [
        {"name": "X-Sig", "a": ["one"], "b": ["two"]},
        {"name": "X-Dup", "a": ["1", "2"], "b": ["1"]},
        {"name": "X-New", "a": [], "b": ["n"]},
    ]


def test_bodies_that_are_not_json_are_compared_by_lines_or_by_hash():
    text = body_changes(b"line one\nline two\n", b"line one\nline 2\n")
    assert (
        text["kind"] == "text" and "-line two" in text["changes"] and "+line 2" in text["changes"]
    )
    binary = body_changes(b"\x00\xff", b"\x00\xfe")
    assert binary["kind"] == "binary"
    assert [side["size"] for side in binary["changes"]] == [2, 2]
    assert body_changes(b"same", b"same") == {"kind": "same", "changes": [], "more": 0}


def request(**fields):
    base = {
        "id": 1,
        "method": "POST",
        "path": "/hook",
        "query_string": "",
        "content_type": "application/json",
        "body_size": 9,
        "remote_addr": "203.0.113.9",
        "headers": [["Authorization", "Bearer a"], ["X-Try", "1"]],
        "body": b'{"n": 1}',
    }
    return SimpleNamespace(**{**base, **fields})


def test_compare_masks_what_the_bin_masks():
    a = request()
    b = request(id=2, headers=[["Authorization", "Bearer b"], ["X-Try", "2"]], path="/hook2")
    result = compare(a, b, frozenset({"authorization"}))
    assert result["fields"] == [{"name": "path", "a": "/hook", "b": "/hook2"}]
    assert result["headers"] == [{"name": "X-Try", "a": ["1"], "b": ["2"]}]
    assert "Bearer" not in str(result) and MASK not in str(result["headers"])
