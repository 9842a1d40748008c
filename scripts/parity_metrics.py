"""Field-by-field parity of census's Application Insights metric envelopes
with Microsoft's exporter (azure-monitor-opentelemetry-exporter) on the
same points.

Reads the JSON document `metrics_parity` prints (the resource, every point
the SDK aggregated, and census's envelope for each point, in order), builds
the same points as OpenTelemetry Python objects, hands each to Microsoft's
exporter, and compares envelope against envelope. Prints one line per point
and exits 1 on any difference that is not one census documents as covering
more than Microsoft:

- `db.client.operation.duration` and the RPC durations: census sends the
  `dependencies/duration` / `requests/duration` standard metrics, Microsoft
  (whose code says "TODO: rpc, database, messaging") a custom metric;
- `http.server.active_requests`: census sends a custom metric, Microsoft
  drops it;
- `ai.internal.sdkVersion` names each exporter's own language and version.
"""

import datetime
import json
import sys

from parity_common import CONNECTION_STRING, LANGUAGE_TAGS, normalized, parse_time

from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter  # noqa: E402
from opentelemetry.sdk.metrics.export import HistogramDataPoint, NumberDataPoint  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.util.instrumentation import InstrumentationScope  # noqa: E402

CENSUS_STANDARD_ONLY = {
    "db.client.operation.duration",
    "rpc.server.call.duration",
    "rpc.client.call.duration",
}
MICROSOFT_DROPS = {"http.server.active_requests"}


def point_of(raw):
    attributes = raw["attributes"]
    if raw["kind"] == "histogram":
        return HistogramDataPoint(
            attributes=attributes,
            start_time_unix_nano=0,
            time_unix_nano=raw["time"],
            count=raw["count"],
            sum=raw["sum"],
            bucket_counts=[],
            explicit_bounds=[],
            min=raw["min"],
            max=raw["max"],
        )
    return NumberDataPoint(
        attributes=attributes,
        start_time_unix_nano=0,
        time_unix_nano=raw["time"],
        value=raw["value"],
    )


def differences(census, microsoft, name):
    """What differs between two envelopes, as readable lines."""
    microsoft = normalized(microsoft)
    found = []
    skip_properties = name in CENSUS_STANDARD_ONLY
    for key in sorted(set(census) | set(microsoft)):
        if key in ("time", "tags", "data"):
            continue
        if census.get(key) != microsoft.get(key):
            found.append(f"{key}: census {census.get(key)!r}, Microsoft {microsoft.get(key)!r}")
    delta = abs(parse_time(census["time"]) - parse_time(microsoft["time"]))
    if delta > datetime.timedelta(microseconds=2):
        found.append(f"time: census {census['time']}, Microsoft {microsoft['time']}")
    tags = set(census["tags"]) | set(microsoft["tags"])
    for tag in sorted(tags - LANGUAGE_TAGS):
        if census["tags"].get(tag) != microsoft["tags"].get(tag):
            found.append(
                f"tag {tag}: census {census['tags'].get(tag)!r}, "
                f"Microsoft {microsoft['tags'].get(tag)!r}"
            )
    if census["data"]["baseType"] != microsoft["data"]["baseType"]:
        found.append("baseType differs")
    census_base = census["data"]["baseData"]
    microsoft_base = microsoft["data"]["baseData"]
    if census_base["ver"] != microsoft_base["ver"]:
        found.append(f"ver: census {census_base['ver']}, Microsoft {microsoft_base['ver']}")
    [census_point] = census_base["metrics"]
    [microsoft_point] = microsoft_base["metrics"]
    for key in sorted(set(census_point) | set(microsoft_point)):
        ours, theirs = census_point.get(key), microsoft_point.get(key)
        same = (
            abs(ours - theirs) <= 1e-9 * max(1.0, abs(theirs))
            if isinstance(ours, (int, float)) and isinstance(theirs, (int, float))
            else ours == theirs
        )
        if not same:
            found.append(f"metrics[0].{key}: census {ours!r}, Microsoft {theirs!r}")
    ours = census_base.get("properties", {})
    theirs = microsoft_base.get("properties", {})
    if ours != theirs and not skip_properties:
        for key in sorted(set(ours) | set(theirs)):
            if ours.get(key) != theirs.get(key):
                found.append(
                    f"properties[{key}]: census {ours.get(key)!r}, Microsoft {theirs.get(key)!r}"
                )
    return found


def main():
    document = json.load(sys.stdin)
    resource = Resource(document["resource"])
    exporter = AzureMonitorMetricExporter(
        connection_string=CONNECTION_STRING, disable_offline_storage=True
    )
    points, census_items = document["points"], document["census"]
    if len(points) != len(census_items):
        print(f"census sent {len(census_items)} envelopes for {len(points)} points")
        return 1
    failures = 0
    identical = 0
    for raw, census in zip(points, census_items):
        name = raw["name"]
        envelope = exporter._point_to_envelope(  # pylint: disable=protected-access
            point_of(raw), name, resource, InstrumentationScope(raw["scope"])
        )
        label = f"{name} {json.dumps(raw['attributes'], sort_keys=True)}"
        if envelope is None:
            if name in MICROSOFT_DROPS:
                print(f"census covers more: {label}: Microsoft sends nothing")
                continue
            print(f"DIFFERENT {label}: Microsoft sends nothing, census {census}")
            failures += 1
            continue
        # The dictionary Microsoft stores and sends, with the wire names.
        microsoft = envelope.as_dict()
        found = differences(census, microsoft, name)
        if found:
            failures += 1
            print(f"DIFFERENT {label}:")
            for line in found:
                print(f"    {line}")
        elif name in CENSUS_STANDARD_ONLY:
            properties = census["data"]["baseData"]["properties"]
            print(
                f"census covers more: {label}: the {properties['_MS.MetricId']} standard "
                f"metric (type {properties.get('Dependency.Type')!r}, target "
                f"{properties.get('dependency/target')!r}), Microsoft a custom metric; "
                "every other field identical"
            )
        else:
            identical += 1
            print(f"identical: {label}")
    print(f"{identical} identical, {failures} different, of {len(points)} points")
    return 1 if failures or identical == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
