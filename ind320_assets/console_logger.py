"""Dagster's colored console logger, with a bad setting reported as one line.

When a step fails with a Failure from `resources/errors.py` (a setting whose
system does not answer), the step's and the run's failure lines end with that
Failure's one-line description instead of Dagster's stack traces. Everything
else prints exactly as Dagster prints it. The stack traces are still in the
run's event log (the UI shows them); to print them on the console too, run with
`--config-json '{"loggers": {"console": {"config": {"tracebacks": true}}}}'`.
"""

from __future__ import annotations

import copy
import logging

from dagster import Field, colored_console_logger, logger

from ind320_assets.resources.errors import SETTING_KEY


def setting_failure_line(record: logging.LogRecord) -> str | None:
    """The one-line description when `record` is a step or run failure caused by a bad setting."""
    event = getattr(record, "dagster_meta", {}).get("dagster_event")
    if event is None:
        return None
    data = event.event_specific_data
    first_step_failure = getattr(data, "first_step_failure_event", None)  # a run failure's cause
    if first_step_failure is not None:
        data = first_step_failure.event_specific_data
    user_failure = getattr(data, "user_failure_data", None)
    if user_failure is None or SETTING_KEY not in (user_failure.metadata or {}):
        return None
    return user_failure.description


class OneLineSettingFailures(logging.Formatter):
    """Wraps the console formatter: a bad setting's failure loses its stack traces."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        line = setting_failure_line(record)
        if line is not None and isinstance(record.msg, str):
            record = copy.copy(record)
            record.msg = f"{record.msg.split(chr(10) + chr(10))[0]} {line}"
        return self.inner.format(record)


@logger(
    {
        "log_level": Field(str, is_required=False, default_value="INFO"),
        "name": Field(str, is_required=False, default_value="dagster"),
        "tracebacks": Field(
            bool, is_required=False, default_value=False,
            description="Print the stack traces of a failure caused by a bad setting too.",
        ),
    },
    description="Dagster's colored console logger; a bad setting's failure is one line unless tracebacks is set.",
)
def console_logger(init_context):  # noqa: ANN001, ANN201 - Dagster's logger signature
    console = colored_console_logger.logger_fn(init_context)
    if not init_context.logger_config["tracebacks"]:
        for handler in console.handlers:
            handler.setFormatter(OneLineSettingFailures(handler.formatter or logging.Formatter()))
    return console
