"""What both parity scripts share: the exporters' connection string, the
environment that keeps Microsoft's exporter from sending statistics of
its own, and how its envelopes are read."""

import datetime
import os

os.environ.setdefault("APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL", "true")
os.environ.setdefault("APPLICATIONINSIGHTS_SDKSTATS_DISABLED", "true")

CONNECTION_STRING = (
    "InstrumentationKey=0f6c9b11-3b55-4a5e-9f7b-2c1d4e5f6a7b;"
    "IngestionEndpoint=http://127.0.0.1:9/"
)
LANGUAGE_TAGS = {"ai.internal.sdkVersion"}


def parse_time(text):
    if isinstance(text, datetime.datetime):
        return text
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def normalized(envelope):
    """Microsoft's envelope as it goes on the wire: tag keys as text, and
    `ver` at the Track API's default of 1 when the model leaves it out."""
    envelope = dict(envelope)
    envelope["tags"] = {getattr(k, "value", k): v for k, v in envelope["tags"].items()}
    if envelope.get("ver") is None:
        envelope["ver"] = 1
    return envelope
