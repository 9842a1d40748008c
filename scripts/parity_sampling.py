"""Decision-by-decision parity of census's rate-limited sampler with
Microsoft's `RateLimitedSampler` (azure-monitor-opentelemetry-exporter,
`export/trace/_rate_limited_sampling.py`).

Reads the JSON document `sampling_parity` prints (start time, target, and
for every call the trace id, time, census's decision and percentage),
replays the same trace ids at the same times through Microsoft's sampler
(its clock replaced by the recorded times), and compares the decision and
the percentage (`_MS.sampleRate`; absent means 100). Exits 1 on any
difference.
"""

import json
import sys

import parity_common  # noqa: F401  (keeps Microsoft's exporter from sending statistics)

from azure.monitor.opentelemetry.exporter.export.trace import (  # noqa: E402
    _rate_limited_sampling as rate_limited,
)
from opentelemetry.sdk.trace.sampling import Decision  # noqa: E402

SAMPLE_RATE = "_MS.sampleRate"


class Clock:
    """The time Microsoft's sampler reads, set to each recorded call's."""

    def __init__(self, now):
        self.now = now

    def time_ns(self):
        return self.now


def main():
    document = json.load(sys.stdin)
    clock = Clock(document["start"])
    rate_limited.time = clock  # the module reads `time.time_ns()`
    sampler = rate_limited.RateLimitedSampler(document["target"])
    differences = kept = 0
    for i, call in enumerate(document["calls"]):
        clock.now = call["time"]
        result = sampler.should_sample(None, int(call["trace_id"], 16), "operation")
        keep = result.decision == Decision.RECORD_AND_SAMPLE
        percentage = (result.attributes or {}).get(SAMPLE_RATE, 100.0)
        kept += keep
        same_rate = abs(percentage - call["percentage"]) <= 1e-9 * max(1.0, percentage)
        if keep != call["keep"] or not same_rate:
            differences += 1
            if differences <= 10:
                print(
                    f"DIFFERENT call {i} ({call['trace_id']} at {call['time']}): census "
                    f"{call['keep']} at {call['percentage']}%, Microsoft {keep} at {percentage}%"
                )
    calls = len(document["calls"])
    print(
        f"sampling: {calls - differences} of {calls} decisions identical "
        f"({kept} kept by Microsoft's sampler), {differences} different"
    )
    return 1 if differences or calls == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
