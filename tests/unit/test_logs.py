"""LOG_FORMAT=json: one JSON object per line."""

import json
import logging
import sys

from inspector.logs import JsonFormatter


def test_a_log_line_is_one_json_object_with_its_extras():
    fields = {"name": "bins.writer", "levelno": 40, "levelname": "ERROR"}
    record = logging.makeLogRecord({**fields, "msg": "could not store %d", "args": (3,)})
    record.request_id = 42
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "bins.writer"
    assert entry["message"] == "could not store 3"
    assert entry["request_id"] == 42
    assert entry["time"].endswith("+00:00")


def test_an_exception_goes_in_its_own_field():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", 40, "f", 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exception"]
