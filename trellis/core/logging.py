"""One JSON object per log line. Only whitelisted, content-free attributes are written."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

SAFE_EXTRAS = ("method", "route", "status", "duration_ms", "user_id", "entry_type", "event")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            # Messages are format strings written by us; their arguments are never entry text.
            "msg": record.getMessage().replace("\n", " ").replace("\r", " "),
        }
        for key in SAFE_EXTRAS:
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type and where it happened, not its message or locals: a message
            # can carry a value (an entry's text in a failed query, for instance).
            etype, _, tb = record.exc_info
            frames = []
            while tb is not None:
                frames.append(f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}")
                tb = tb.tb_next
            data["exc_type"] = etype.__name__
            data["exc_where"] = frames[-5:]
        return json.dumps(data, ensure_ascii=True)
