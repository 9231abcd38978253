"""The server log never holds an exception's message: it may carry patient data."""

from __future__ import annotations

import io
import logging

from carta import logs


def test_an_exception_message_is_withheld_and_its_traceback_kept() -> None:
    logs.withhold_exception_messages()
    logs.withhold_exception_messages()  # once is enough: installing twice adds nothing
    logger = logging.getLogger("streamlit.error_util")
    assert sum(isinstance(f, logs.WithholdExceptionMessages) for f in logger.filters) == 1
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        from_a_file = "".join(["Mül", "ler, Hans"])  # a value read from outside, not code
        try:
            {"SYN-00042": 1}[from_a_file]
        except KeyError as error:
            logger.error("Uncaught app execution", exc_info=error)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "Müller" not in text
    assert "builtins.KeyError; its message is withheld" in text
    assert "test_logs.py" in text  # where it happened is kept
