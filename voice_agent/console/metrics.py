"""`GET /metrics` in the Prometheus text format (version 0.0.4), without a client library.

Counters and histograms are fed by the console's bus observer; gauges are read when scraped
(sessions active and queued, hand-offs waiting, consoles open, messages the bus dropped).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable

LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
# pause_to_ready / pause_to_end: a turn prepared at a pause in the speech, from the pause to its
# decision and to the end of the citizen's turn (the early end fires when the first comes first)
STAGES = ("stt", "lid", "retrieval", "first_audio", "total", "pause_to_ready", "pause_to_end")


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs
    )
    return f"{{{inner}}}" if inner else ""


def _num(x: float) -> str:
    if math.isinf(x):
        return "+Inf"
    return repr(float(x)) if not float(x).is_integer() else str(int(x))


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.count += 1
        self.sum += value
        for i, edge in enumerate(self.buckets):
            if value <= edge:
                self.counts[i] += 1

    def lines(self, name: str, labels: list[tuple[str, str]]) -> list[str]:
        out = [
            f"{name}_bucket{_labels([*labels, ('le', _num(edge))])} {n}"
            for edge, n in zip(self.buckets, self.counts, strict=True)
        ]
        out.append(f"{name}_bucket{_labels([*labels, ('le', '+Inf')])} {self.count}")
        out.append(f"{name}_sum{_labels(labels)} {_num(round(self.sum, 6))}")
        out.append(f"{name}_count{_labels(labels)} {self.count}")
        return out


class Metrics:
    def __init__(self) -> None:
        self.turns = 0
        self.errors: Counter[str] = Counter()
        self.handoffs: Counter[str] = Counter()
        self.feedback: Counter[str] = Counter()
        self.ends: Counter[str] = Counter()  # how citizens' spoken turns ended
        self.latency = {s: Histogram(LATENCY_BUCKETS_S) for s in STAGES}
        self.gauges: dict[str, tuple[str, Callable[[], dict[str, float]]]] = {}

    def gauge(self, name: str, help_text: str, read: Callable[[], dict[str, float]]) -> None:
        """A gauge read at scrape time: {label value (or "") -> value}, label key `state`."""
        self.gauges[name] = (help_text, read)

    def observe_turn(self, times_ms: dict[str, float | None], end_of_turn: str | None) -> None:
        self.turns += 1
        if end_of_turn:
            self.ends[end_of_turn] += 1
        for stage in STAGES:
            v = times_ms.get(f"{stage}_ms")
            if v is not None and v >= 0:
                self.latency[stage].observe(v / 1000.0)

    def render(self) -> str:
        out: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            out.extend([f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"])

        for name, (help_text, read) in sorted(self.gauges.items()):
            family(name, "gauge", help_text)
            for label, value in sorted(read().items()):
                out.append(f"{name}{_labels([('state', label)] if label else [])} {_num(value)}")
        family("voice_agent_turns_total", "counter", "Turns finished (answers, messages, staff).")
        out.append(f"voice_agent_turns_total {self.turns}")
        family("voice_agent_errors_total", "counter", "Errors reported on the bus, by kind.")
        for kind, n in sorted(self.errors.items()):
            out.append(f"voice_agent_errors_total{_labels([('kind', kind)])} {n}")
        family("voice_agent_handoffs_total", "counter", "Hand-off state changes, by new state.")
        for state, n in sorted(self.handoffs.items()):
            out.append(f"voice_agent_handoffs_total{_labels([('state', state)])} {n}")
        family("voice_agent_feedback_total", "counter", "Ratings of answers, by rating.")
        for rating, n in sorted(self.feedback.items()):
            out.append(f"voice_agent_feedback_total{_labels([('rating', rating)])} {n}")
        family(
            "voice_agent_end_of_turn_total",
            "counter",
            "Spoken turns by how they ended: early (the answer prepared at a pause was ready), "
            "silence, limit, or why not early (no_pause, not_ready, not_faq, unfinished, "
            "ready_late).",
        )
        for how, n in sorted(self.ends.items()):
            out.append(f"voice_agent_end_of_turn_total{_labels([('how', how)])} {n}")
        name = "voice_agent_stage_latency_seconds"
        family(name, "histogram", "Per-stage latency of finished turns.")
        for stage in STAGES:
            out.extend(self.latency[stage].lines(name, [("stage", stage)]))
        return "\n".join(out) + "\n"
