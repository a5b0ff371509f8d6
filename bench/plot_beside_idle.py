#!/usr/bin/env python3
"""Plot of bench/run.sh's beside-idle case: messages/s of 50 busy connections
against the number of idle connections held beside them, one line per
server, 50 x 1 and 50 x 16 side by side; the markers are medians over the
rounds, the error bars their min-max.

    python3 bench/plot_beside_idle.py RESULTS.jsonl [OUT.png]   (default docs/beside-idle.png)

Needs matplotlib (Debian: python3-matplotlib)."""

import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)
from matplotlib.ticker import FuncFormatter  # noqa: E402

LABELS = {
    "switchboard": "Switchboard",
    "switchboard-qtloop": 'Switchboard, "eventLoop": "qt"',
    "qt-echo": "plain Qt (QWebSocketServer)",
    "beast-1t": "Boost.Beast example, 1 thread",
}
STYLES = {
    "switchboard": dict(color="tab:blue", marker="o"),
    "switchboard-qtloop": dict(color="tab:cyan", marker="s", linestyle="--"),
    "qt-echo": dict(color="tab:green", marker="^"),
    "beast-1t": dict(color="tab:red", marker="D"),
}


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    out = argv[2] if len(argv) == 3 else "docs/beside-idle.png"
    rows = [json.loads(line) for line in open(argv[1]) if line.strip()]
    rows = [r for r in rows if r.get("case") == "beside-idle" and "msgs_per_s" in r]
    if not rows:
        sys.exit(f"{argv[1]}: no beside-idle results")
    servers = list(dict.fromkeys(r["server"] for r in rows))
    rounds = max(r["round"] for r in rows)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    for ax, depth in zip(axes, (1, 16)):
        for server in servers:
            points = {}
            for r in rows:
                # A run with errors is not a measurement of the server's speed.
                if r["server"] == server and r.get("depth") == depth and not r.get("errors"):
                    points.setdefault(r["idle"], []).append(r["msgs_per_s"])
            if not points:
                continue
            ns = sorted(points)
            med = [statistics.median(points[n]) for n in ns]
            low = [m - min(points[n]) for m, n in zip(med, ns)]
            high = [max(points[n]) - m for m, n in zip(med, ns)]
            ax.errorbar(ns, med, yerr=[low, high], capsize=3, label=LABELS.get(server, server),
                        **STYLES.get(server, {}))
        ax.set_title(f"50 connections × depth {depth}")
        ax.set_xlabel("idle WebSocket connections held beside them")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:,.0f}k"))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes[0].set_ylabel("messages/s (median, min–max)")
    axes[0].legend(fontsize="small")
    fig.suptitle(f"Echo throughput beside idle connections ({rounds} round{'s' if rounds > 1 else ''}, loopback)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main(sys.argv)
