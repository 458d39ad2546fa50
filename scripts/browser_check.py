#!/usr/bin/env python3
"""Checks in headless Chromium that a `qualify compare` report (or another page that lists its
plots in `<body data-plots="...">`, e.g. `qualify monitor`'s) renders with all its plots.

1. A copy of report.html with a measuring script appended is loaded with --dump-dom: the script
   (run by the browser after layout) records, for every expected plot, the rendered size of its
   <svg> and how many shapes and labels it drew, into the DOM that Chromium prints.
2. The report itself, unmodified, is screenshotted; the PNG must show more than a blank page.

Usage: python scripts/browser_check.py REPORT.html SCREENSHOT.png (scripts/browser-check
installs Chromium first). Exit status 1 on any failed check.
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# qualify_compare::report::PLOTS, in page order.
PLOTS = ["roc", "gains", "lift", "capacity", "reliability", "distribution", "matrix"]
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MEASURE = """
<script>
const out = {};
for (const fig of document.querySelectorAll('figure[data-plot]')) {
  const svg = fig.querySelector('svg');
  if (!svg) { out[fig.dataset.plot] = null; continue; }
  const box = svg.getBoundingClientRect();
  out[fig.dataset.plot] = {
    width: box.width, height: box.height,
    shapes: svg.querySelectorAll('path, polyline, line, rect, circle, polygon').length,
    texts: svg.querySelectorAll('text').length,
    longest_line: Math.max(0, ...[...svg.querySelectorAll('polyline')].map(
        p => (p.getAttribute('points') || '').trim().split(/\\s+/).length)),
  };
}
out.tables = document.querySelectorAll('table').length;
const pre = document.createElement('pre');
pre.id = 'qualify-measure';
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>
"""


def chromium(profile, *args):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        sys.exit("browser_check: chromium is not installed (scripts/browser-check installs it)")
    cmd = [exe, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def main(report, screenshot):
    problems = []
    html = report.read_text(encoding="utf-8")
    listed = re.search(r'<body data-plots="([^"]*)"', html)
    plots = listed.group(1).split() if listed else PLOTS
    curves = [] if listed else [p for p in PLOTS if p != "matrix"]
    with tempfile.TemporaryDirectory() as tmp:
        measured = Path(tmp) / "measure.html"
        measured.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
        run = chromium(Path(tmp) / "profile-dom", "--dump-dom", measured.as_uri())
        found = re.search(r'<pre id="qualify-measure">(.*?)</pre>', run.stdout, re.S)
        if run.returncode != 0 or not found:
            sys.exit(f"browser_check: chromium --dump-dom gave no measurement "
                     f"(exit {run.returncode}):\n{run.stderr[-2000:]}")
        m = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
        for plot in plots:
            got = m.get(plot)
            if got is None:
                problems.append(f"plot {plot}: no <svg> in the rendered page")
                continue
            if got["width"] < 400 or got["height"] < 300:
                problems.append(f"plot {plot}: rendered {got['width']}x{got['height']} px")
            if got["shapes"] < 20 or got["texts"] < 8:
                problems.append(f"plot {plot}: only {got['shapes']} shapes and {got['texts']} labels")
            if plot in curves and got["longest_line"] < 10:
                problems.append(f"plot {plot}: no curve (longest polyline {got['longest_line']} points)")
        if m.get("tables", 0) < 6:
            problems.append(f"only {m.get('tables')} tables rendered")

        shot = chromium(Path(tmp) / "profile-shot", "--window-size=1240,2400",
                        f"--screenshot={screenshot.resolve()}", report.resolve().as_uri())
        if shot.returncode != 0 or not screenshot.exists():
            problems.append(f"no screenshot (exit {shot.returncode}): {shot.stderr[-500:]}")
        else:
            import matplotlib.image

            pixels = matplotlib.image.imread(str(screenshot))[..., :3]
            inked = float((pixels.mean(axis=2) < 0.9).mean())
            if inked < 0.05:
                problems.append(f"screenshot is nearly blank ({inked:.1%} of pixels inked)")
    if problems:
        print("browser_check: FAILED")
        for p in problems:
            print("  " + p)
        return 1
    sizes = ", ".join(f"{p} {m[p]['shapes']} shapes" for p in plots)
    print(f"browser_check: {len(plots)} plots rendered ({sizes}); {m['tables']} tables; "
          f"{inked:.0%} of the screenshot inked -> {screenshot}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
