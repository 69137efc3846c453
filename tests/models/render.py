"""Render a BPMN diagram to PNG with the vendored bpmn-js viewer in headless Chromium.

Usage::

    .venv/bin/python -m tests.models.render bpmn/enforcement_case.bpmn [more.bpmn ...]
    .venv/bin/python -m tests.models.render --region X,Y,WIDTH,HEIGHT bpmn/enforcement_case.bpmn

PNGs go to ``test-output/diagrams/`` (git-ignored).  Wide diagrams are also cut
into overlapping tiles (``<name>.tile-<n>.png``) that are easier to inspect.  The
command also lists rendered labels that overlap another label, a shape or a flow,
and exits non-zero when there are any or when bpmn-js reports import warnings.
The function :func:`render` returns the viewer's import warnings and the
on-screen boxes of every rendered label, so callers can check for overlaps.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "webapp" / "static" / "vendor" / "bpmn-js" / "dist"
OUT_DIR = ROOT / "test-output" / "diagrams"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<style>
  html, body { margin: 0; padding: 0; background: #fff; }
  #canvas { position: absolute; left: 0; top: 0; right: 0; bottom: 0; }
</style>
</head><body><div id="canvas"></div></body></html>
"""

IMPORT_JS = """
async (xml) => {
  const viewer = new BpmnJS({ container: '#canvas' });
  window.viewer = viewer;
  let warnings = [];
  try {
    const result = await viewer.importXML(xml);
    warnings = (result.warnings || []).map(w => String(w.message || w));
  } catch (err) {
    return { error: String(err.message || err), warnings: (err.warnings || []).map(w => String(w.message || w)) };
  }
  const canvas = viewer.get('canvas');
  const inner = canvas.viewbox().inner;
  return { warnings, inner: { x: inner.x, y: inner.y, width: inner.width, height: inner.height } };
}
"""

PLACE_JS = """
(margin) => {
  const canvas = window.viewer.get('canvas');
  const inner = canvas.viewbox().inner;
  canvas.viewbox({ x: inner.x - margin, y: inner.y - margin,
                   width: inner.width + 2 * margin, height: inner.height + 2 * margin });
  const labels = [];
  document.querySelectorAll('.djs-element').forEach((el) => {
    const id = el.getAttribute('data-element-id');
    el.querySelectorAll('text').forEach((t) => {
      const r = t.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && t.textContent.trim()) {
        labels.push({ id, text: t.textContent, x: r.x, y: r.y, width: r.width, height: r.height });
      }
    });
  });
  return labels;
}
"""


def render(bpmn_path: str | Path, png_path: str | Path | None = None, *, margin: int = 20,
           tile_width: int = 1500, region: tuple[int, int, int, int] | None = None) -> dict:
    """Render ``bpmn_path`` to ``png_path`` (default ``test-output/diagrams/<stem>.png``).

    Returns ``{"png": path, "tiles": [...], "warnings": [...], "labels": [...]}`` where
    labels are the rendered text boxes in diagram coordinates.  ``region`` (x, y, width,
    height in diagram coordinates) additionally saves that part as ``<stem>.region.png``.
    """
    from playwright.sync_api import sync_playwright

    bpmn_path = Path(bpmn_path)
    png_path = Path(png_path) if png_path else OUT_DIR / f"{bpmn_path.stem}.png"
    png_path.parent.mkdir(parents=True, exist_ok=True)
    xml = bpmn_path.read_text(encoding="utf-8")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.set_content(PAGE)
            page.add_style_tag(path=str(VENDOR / "assets" / "diagram-js.css"))
            page.add_style_tag(path=str(VENDOR / "assets" / "bpmn-js.css"))
            page.add_script_tag(path=str(VENDOR / "bpmn-viewer.production.min.js"))
            result = page.evaluate(IMPORT_JS, xml)
            if "error" in result:
                raise RuntimeError(f"bpmn-js could not import {bpmn_path}: {result['error']}")
            inner = result["inner"]
            width = int(inner["width"]) + 2 * margin
            height = int(inner["height"]) + 2 * margin
            page.set_viewport_size({"width": width, "height": height})
            labels = page.evaluate(PLACE_JS, margin)
            page.screenshot(path=str(png_path), full_page=False)
            tiles = []
            if region:
                rx, ry, rw, rh = region
                clip = {"x": max(0, rx - inner["x"] + margin), "y": max(0, ry - inner["y"] + margin),
                        "width": rw, "height": rh}
                tile = png_path.with_name(f"{png_path.stem}.region.png")
                page.screenshot(path=str(tile), clip=clip)
                tiles.append(str(tile))
            elif width > tile_width:
                step = tile_width - 200
                x = 0
                n = 0
                while x < width:
                    tile = png_path.with_name(f"{png_path.stem}.tile-{n}.png")
                    page.screenshot(path=str(tile), clip={"x": x, "y": 0,
                                                          "width": min(tile_width, width - x),
                                                          "height": height})
                    tiles.append(str(tile))
                    if x + tile_width >= width:
                        break
                    x += step
                    n += 1
        finally:
            browser.close()
    origin = (inner["x"] - margin, inner["y"] - margin)
    for label in labels:        # page pixels -> diagram coordinates
        label["x"] += origin[0]
        label["y"] += origin[1]
    return {"png": str(png_path), "tiles": tiles, "warnings": result["warnings"],
            "labels": labels, "size": [width, height], "origin": origin}


def label_problems(bpmn_path: str | Path, info: dict) -> list[str]:
    """Rendered external labels that overlap each other, a shape or a flow (from :func:`render`)."""
    from lxml import etree

    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
          "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}
    root = etree.parse(str(bpmn_path)).getroot()
    lanes = {lane.get("id") for lane in root.iter("{%s}lane" % ns["bpmn"])}
    shapes = {}
    for shape in root.iter("{%s}BPMNShape" % ns["bpmndi"]):
        if shape.get("bpmnElement") not in lanes:
            b = shape.find("dc:Bounds", ns)
            x, y = float(b.get("x")), float(b.get("y"))
            shapes[shape.get("bpmnElement")] = (x, y, x + float(b.get("width")), y + float(b.get("height")))
    segments = []
    for edge in root.iter("{%s}BPMNEdge" % ns["bpmndi"]):
        pts = [(float(w.get("x")), float(w.get("y"))) for w in edge.findall("di:waypoint", ns)]
        segments += [(edge.get("bpmnElement"), a, b) for a, b in zip(pts, pts[1:])]

    def overlap(a, b):
        return min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5

    def hits(a, b, r):
        if a[1] == b[1]:
            return r[1] < a[1] < r[3] and min(a[0], b[0]) < r[2] and max(a[0], b[0]) > r[0]
        return r[0] < a[0] < r[2] and min(a[1], b[1]) < r[3] and max(a[1], b[1]) > r[1]

    external = [(l["id"], l["text"], (l["x"], l["y"], l["x"] + l["width"], l["y"] + l["height"]))
                for l in info["labels"] if l["id"] not in lanes and l["id"] not in shapes]
    problems = []
    for i, (a, text, ra) in enumerate(external):
        problems += [f"label {text!r} ({a}) overlaps label {t!r} ({b})"
                     for b, t, rb in external[i + 1:] if overlap(ra, rb)]
        problems += [f"label {text!r} ({a}) overlaps shape {sid}" for sid, r in shapes.items() if overlap(ra, r)]
        problems += [f"label {text!r} ({a}) crosses flow {fid}" for fid, p, q in segments if hits(p, q, ra)]
    return problems


def main(argv: list[str]) -> int:
    status = 0
    region = None
    if argv[:1] == ["--region"]:
        region = tuple(int(v) for v in argv[1].split(","))
        argv = argv[2:]
    for name in argv:
        info = render(name, region=region)
        problems = label_problems(name, info)
        print(json.dumps({"file": name, "png": info["png"], "tiles": info["tiles"],
                          "size": info["size"], "warnings": info["warnings"], "label_problems": problems},
                         ensure_ascii=False))
        if info["warnings"] or problems:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
