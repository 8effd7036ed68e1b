"""Draw the peer benchmark's plot (PNG) from the figures ``bench_peers.py`` passes on stdin.

Runs in the peers' environment, where matplotlib is installed; the project never needs it.
Input: ``{"panels": [{"metric", "title", "bars": [{"name", "median", "low", "high",
"ours"}]}], "caption": str, "output": path}``. Bars are medians over runs; the whiskers span
the lowest to the highest run.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display
import matplotlib.pyplot as plt

OURS = "#2a7ab0"
PEER = "#9a9a9a"


def draw(document: dict[str, Any]) -> None:
    panels = document["panels"]
    figure, axes = plt.subplots(len(panels), 1, figsize=(8, 2.3 * len(panels)))
    for ax, panel in zip(axes, panels, strict=True):
        bars = panel["bars"]
        names = [bar["name"] for bar in bars]
        medians = [bar["median"] for bar in bars]
        errors = [
            [bar["median"] - bar["low"] for bar in bars],
            [bar["high"] - bar["median"] for bar in bars],
        ]
        colours = [OURS if bar["ours"] else PEER for bar in bars]
        ax.barh(names, medians, xerr=errors, color=colours, capsize=3)
        ax.invert_yaxis()  # first contender on top
        ax.set_title(panel["title"], fontsize=10, loc="left")
        ax.tick_params(labelsize=8)
        for y, bar in enumerate(bars):  # the label right of the whisker
            ax.text(bar["high"], y, f"  {bar['median']:,.0f}", va="center", fontsize=8)
        ax.margins(x=0.22)
    figure.suptitle("trio_binance and its peers on one loopback server", fontsize=11)
    figure.text(0.01, 0.005, document["caption"], fontsize=6, wrap=True)
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    figure.savefig(document["output"], dpi=100)


if __name__ == "__main__":
    draw(json.load(sys.stdin))
