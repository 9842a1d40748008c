"""Field-by-field parity of census's Application Insights log envelopes
with Microsoft's log exporter (azure-monitor-opentelemetry-exporter,
`export/logs/_exporter.py`) on the same records.

Reads the JSON document `logs_parity` prints (the resource, every log
record the SDK held, and census's envelope for each, in order), builds the
same records as OpenTelemetry Python objects (the scope named after the
record's target, as Python's logging handler names it after the logger),
hands each to Microsoft's exporter, and compares envelope against
envelope: the item type, message, severity level, exception details,
event name, properties and tags. Prints one line per record and exits 1 on
any difference but these, which census documents:

- a record written outside any trace: Microsoft sends all-zero
  `ai.operation.id` and `ai.operation.parentId`, census no operation tags
  (the issue's rule: such a record is "without operation");
- `ai.internal.sdkVersion` names each exporter's own language and version.
"""

import datetime
import json
import sys

from parity_common import CONNECTION_STRING, LANGUAGE_TAGS, normalized, parse_time

from azure.monitor.opentelemetry.exporter import AzureMonitorLogExporter  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry._logs import LogRecord, SeverityNumber  # noqa: E402
from opentelemetry.context import Context  # noqa: E402
from opentelemetry.sdk._logs import ReadableLogRecord  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.util.instrumentation import InstrumentationScope  # noqa: E402

ZERO_OPERATION = {
    "ai.operation.id": "0" * 32,
    "ai.operation.parentId": "0" * 16,
}


def record_of(raw, resource):
    if raw["trace_id"]:
        span_context = trace.SpanContext(
            trace_id=int(raw["trace_id"], 16),
            span_id=int(raw["span_id"], 16),
            is_remote=False,
            trace_flags=trace.TraceFlags(0x01 if raw["sampled"] else 0x00),
        )
        context = trace.set_span_in_context(trace.NonRecordingSpan(span_context), Context())
    else:
        context = Context()
    record = LogRecord(
        timestamp=raw["timestamp"],
        observed_timestamp=raw["observed_timestamp"],
        context=context,
        severity_text=raw["severity_text"],
        severity_number=SeverityNumber(raw["severity_number"]),
        body=raw["body"],
        attributes=raw["attributes"],
    )
    return ReadableLogRecord(
        log_record=record,
        resource=resource,
        instrumentation_scope=InstrumentationScope(raw["target"]),
    )


def differences(census, microsoft, outside_trace):
    microsoft = normalized(microsoft)
    found = []
    for key in sorted(set(census) | set(microsoft)):
        if key in ("time", "tags", "data"):
            continue
        if census.get(key) != microsoft.get(key):
            found.append(f"{key}: census {census.get(key)!r}, Microsoft {microsoft.get(key)!r}")
    delta = abs(parse_time(census["time"]) - parse_time(microsoft["time"]))
    if delta > datetime.timedelta(microseconds=2):
        found.append(f"time: census {census['time']}, Microsoft {microsoft['time']}")
    documented = []
    for tag in sorted((set(census["tags"]) | set(microsoft["tags"])) - LANGUAGE_TAGS):
        ours, theirs = census["tags"].get(tag), microsoft["tags"].get(tag)
        if ours == theirs:
            continue
        if outside_trace and ours is None and ZERO_OPERATION.get(tag) == theirs:
            documented.append(tag)
            continue
        found.append(f"tag {tag}: census {ours!r}, Microsoft {theirs!r}")
    if census["data"]["baseType"] != microsoft["data"]["baseType"]:
        found.append(
            f"baseType: census {census['data']['baseType']}, Microsoft {microsoft['data']['baseType']}"
        )
        return found, documented
    ours, theirs = census["data"]["baseData"], dict(microsoft["data"]["baseData"])
    # Microsoft's model sends empty measurements; census leaves them out.
    if not theirs.get("measurements"):
        theirs.pop("measurements", None)
    for key in sorted(set(ours) | set(theirs)):
        if ours.get(key) != theirs.get(key):
            found.append(f"baseData.{key}: census {ours.get(key)!r}, Microsoft {theirs.get(key)!r}")
    return found, documented


def main():
    document = json.load(sys.stdin)
    resource = Resource(document["resource"])
    exporter = AzureMonitorLogExporter(
        connection_string=CONNECTION_STRING, disable_offline_storage=True
    )
    records, census_items = document["records"], document["census"]
    if len(records) != len(census_items):
        print(f"census sent {len(census_items)} envelopes for {len(records)} records")
        return 1
    failures = identical = 0
    kinds = set()
    for raw, census in zip(records, census_items):
        envelope = exporter._log_to_envelope(  # pylint: disable=protected-access
            record_of(raw, resource)
        )
        # What goes on the wire: the client serializes without read-only
        # fields (the models' `kind` discriminators).
        microsoft = envelope.as_dict(exclude_readonly=True)
        label = f"{census['data']['baseType']} {raw['body']!r}"
        found, documented = differences(census, microsoft, not raw["trace_id"])
        if found:
            failures += 1
            print(f"DIFFERENT {label}:")
            for line in found:
                print(f"    {line}")
            continue
        identical += 1
        kinds.add(census["data"]["baseType"])
        if documented:
            print(
                f"identical but the documented operation tags: {label}: Microsoft all-zero "
                f"{', '.join(documented)}, census none (outside any trace)"
            )
        else:
            print(f"identical: {label}")
    print(f"{identical} identical, {failures} different, of {len(records)} records")
    expected = {"MessageData", "ExceptionData", "EventData"}
    if kinds != expected:
        print(f"the scenario must cover {sorted(expected)}, covered {sorted(kinds)}")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
