"""Patient data stays out of the server log: an exception's message can hold a value from a file
or a query (a patient id, a name in a mis-typed cell), so the messages of the exceptions Streamlit
logs are withheld; their type and traceback (files and lines, no values) are kept for debugging.
"""

from __future__ import annotations

import logging

# The loggers through which Streamlit reports an app's exceptions.
EXCEPTION_LOGGERS = (
    "streamlit.error_util",
    "streamlit.runtime.scriptrunner.script_runner",
    "streamlit.runtime.scriptrunner.exec_code",
    "carta",
)


class WithheldMessage(Exception):
    """Stands in for a logged exception whose message is withheld."""


class WithholdExceptionMessages(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            kind, _, traceback = record.exc_info
            name = f"{kind.__module__}.{kind.__qualname__}"
            record.exc_info = (WithheldMessage, WithheldMessage(
                f"{name}; its message is withheld from the log, as it may hold patient data"
            ), traceback)  # fmt: skip
            record.exc_text = None
        return True


def withhold_exception_messages() -> None:
    """Install the filter on the loggers that report exceptions (once per process)."""
    for name in EXCEPTION_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithholdExceptionMessages) for f in logger.filters):
            logger.addFilter(WithholdExceptionMessages())
