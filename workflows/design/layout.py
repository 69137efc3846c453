"""Lane-aware automatic layout for BPMN process diagrams.

Generic layout tools ignore swimlanes, so this module writes the BPMN DI
(``bpmndi:BPMNDiagram``) of every process in a document itself:

* nodes are ranked by the longest path from the start events, ignoring the back
  edges of loops, and the rank gives the column (left-to-right reading order);
* the lane of a node gives its band (lanes are stacked top to bottom in document
  order and are as tall as their rows); several nodes of one lane in the same
  column go to separate rows;
* boundary events sit on the bottom edge of their host;
* sequence flows are routed orthogonally around the shapes (a shortest path
  search over the free channels between columns and rows that penalises bends,
  crossings and shared segments), starting and ending on the shape borders;
* external labels (events, gateways, named flows) are put where they overlap
  no shape, flow or other label.

``layout_tree(root)`` is the pure part (an lxml element or tree in, the same
document with a fresh ``bpmndi`` section out); ``layout_file(path)`` rewrites a
file in place.
"""
from __future__ import annotations

import copy
import heapq
import math
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}

EVENT_TAGS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent"}
GATEWAY_TAGS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway",
                "eventBasedGateway", "complexGateway"}
ACTIVITY_TAGS = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask",
                 "receiveTask", "businessRuleTask", "callActivity", "subProcess", "transaction"}
FLOW_NODE_TAGS = EVENT_TAGS | GATEWAY_TAGS | ACTIVITY_TAGS | {"boundaryEvent"}

# Geometry (diagram units = pixels at zoom 1).
ACTIVITY_SIZE = (100, 80)
EVENT_SIZE = (36, 36)
GATEWAY_SIZE = (50, 50)
ROW_HEIGHT = 80              # tallest shape
GAP_X = 80                   # free channel between two columns
GAP_Y = 90                   # free channel between two rows of one lane
LANE_LABEL = 30              # the strip with the lane's name
LANE_PAD_LEFT = 50
LANE_PAD_RIGHT = 50
LANE_PAD_TOP = 60
LANE_PAD_BOTTOM = 70
TRACK_SPACING = 18           # minimum distance between two routing tracks
TRACK_CLEARANCE = 20         # minimum distance between a track and a row or column of shapes
MAX_TRACKS = 5

# Label metrics of the bpmn-js renderer (11 px font for external labels).
LABEL_MAX_WIDTH = 90
LABEL_LINE_HEIGHT = 14
WIDE_CHAR = 11.0
NARROW_CHAR = 6.2

# Routing costs.
BEND_COST = 40.0
CROSS_COST = 25.0
OVERLAP_COST = 15.0          # per unit of length shared with an unrelated flow
BUNDLE_FACTOR = 0.4          # length factor when sharing a segment with a flow into the same target
PORT_REUSE_COST = 400.0      # leaving by a port that a flow of the same source to elsewhere uses
BACK_RIGHT_COST = 200.0      # a loop leaving a gateway rightwards has to turn round
OPPOSITE_PORT_COST = 60.0    # top and bottom of one node both used: one straight line through it
HEAD_ON_COST = 150.0         # two flows meeting head-on on one line read as a single flow
SIDE_PORT_COST = {"activity": 70.0, "gateway": 6.0, "event": 30.0}  # top/bottom instead of left/right

RIGHT, LEFT, DOWN, UP = (1, 0), (-1, 0), (0, 1), (0, -1)


def _local(el) -> str:
    return etree.QName(el).localname


@dataclass
class Node:
    id: str
    tag: str
    name: str
    kind: str                      # activity | event | gateway | boundary
    lane: int = 0
    attached_to: str | None = None
    rank: int = 0
    row: int = 0
    order: int = 0
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    boundaries: list = field(default_factory=list)
    label: tuple | None = None

    @property
    def rect(self):
        return (self.x, self.y, self.x + self.w, self.y + self.h)

    @property
    def cx(self):
        return self.x + self.w / 2

    @property
    def cy(self):
        return self.y + self.h / 2


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str
    back: bool = False
    points: list = field(default_factory=list)
    label: tuple | None = None


@dataclass
class Lane:
    id: str
    name: str
    rows: int = 1
    y: float = 0.0
    h: float = 0.0


# --------------------------------------------------------------------------- text

def text_size(text: str) -> tuple[float, float]:
    """Approximate size of an external label as bpmn-js lays it out."""
    text = (text or "").strip()
    if not text:
        return (0.0, 0.0)
    lines = []
    for raw in text.splitlines() or [text]:
        width = 0.0
        for ch in raw:
            width += WIDE_CHAR if ord(ch) > 0x2E7F else NARROW_CHAR
        lines.append(width)
    n_lines = sum(max(1, math.ceil(w / LABEL_MAX_WIDTH)) for w in lines)
    width = min(LABEL_MAX_WIDTH, max(lines)) + 4
    return (round(width), n_lines * LABEL_LINE_HEIGHT + 2)


# --------------------------------------------------------------------------- model

class _Process:
    def __init__(self, process):
        self.el = process
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []
        self.lanes: list[Lane] = []
        order = 0
        for child in process:
            if not isinstance(child.tag, str):
                continue
            tag = _local(child)
            if tag not in FLOW_NODE_TAGS:
                continue
            if tag == "boundaryEvent":
                kind, size = "boundary", EVENT_SIZE
            elif tag in EVENT_TAGS:
                kind, size = "event", EVENT_SIZE
            elif tag in GATEWAY_TAGS:
                kind, size = "gateway", GATEWAY_SIZE
            else:
                kind, size = "activity", ACTIVITY_SIZE
            node = Node(child.get("id"), tag, child.get("name") or "", kind,
                        attached_to=child.get("attachedToRef"), order=order,
                        w=size[0], h=size[1])
            order += 1
            self.nodes[node.id] = node
        for child in process.iterfind("bpmn:sequenceFlow", NS):
            if child.get("sourceRef") in self.nodes and child.get("targetRef") in self.nodes:
                self.flows.append(Flow(child.get("id"), child.get("sourceRef"),
                                       child.get("targetRef"), child.get("name") or ""))
        for node in self.nodes.values():
            if node.attached_to:
                self.nodes[node.attached_to].boundaries.append(node.id)

        lane_of: dict[str, int] = {}
        for lane_el in process.iterfind("bpmn:laneSet/bpmn:lane", NS):
            self.lanes.append(Lane(lane_el.get("id"), lane_el.get("name") or ""))
            for ref in lane_el.iterfind("bpmn:flowNodeRef", NS):
                if ref.text and ref.text.strip() in self.nodes:
                    lane_of.setdefault(ref.text.strip(), len(self.lanes) - 1)
        self._assign_lanes(lane_of)

    def _assign_lanes(self, lane_of):
        preds: dict[str, list[str]] = {n: [] for n in self.nodes}
        for f in self.flows:
            preds[f.target].append(f.source)
        for node in self.nodes.values():
            node.lane = lane_of.get(node.id, -1)
        # Boundary events always live with their host; unassigned nodes follow a neighbour.
        for node in self.nodes.values():
            if node.attached_to:
                node.lane = self.nodes[node.attached_to].lane
        changed = True
        while changed:
            changed = False
            for node in self.nodes.values():
                if node.lane >= 0:
                    continue
                for p in preds[node.id]:
                    if self.nodes[p].lane >= 0:
                        node.lane = self.nodes[p].lane
                        changed = True
                        break
        for node in self.nodes.values():
            if node.lane < 0:
                node.lane = 0
        if not self.lanes:
            self.lanes.append(Lane("", ""))

    # ------------------------------------------------------------------ ranking

    def host(self, node_id: str) -> str:
        node = self.nodes[node_id]
        return node.attached_to or node_id

    def rank_nodes(self):
        main = [n for n in self.nodes.values() if n.kind != "boundary"]
        succ: dict[str, list[Flow]] = {n.id: [] for n in main}
        indeg: dict[str, int] = {n.id: 0 for n in main}
        for f in self.flows:
            succ[self.host(f.source)].append(f)
            indeg[self.host(f.target)] += 1
        # Boundary flows are explored after the host's normal outgoing flows.
        for key in succ:
            succ[key].sort(key=lambda f: (self.nodes[f.source].kind == "boundary",))

        state: dict[str, int] = {}
        discovery: dict[str, int] = {}

        def dfs(root: str):
            stack = [(root, iter(succ[root]))]
            state[root] = 1
            discovery[root] = len(discovery)
            while stack:
                node_id, it = stack[-1]
                advanced = False
                for f in it:
                    t = self.host(f.target)
                    if state.get(t) == 1:
                        f.back = True
                    elif t not in state:
                        state[t] = 1
                        discovery[t] = len(discovery)
                        stack.append((t, iter(succ[t])))
                        advanced = True
                        break
                if not advanced:
                    state[node_id] = 2
                    stack.pop()

        starts = [n.id for n in main if n.tag == "startEvent"]
        starts += [n.id for n in main if indeg[n.id] == 0 and n.id not in starts]
        for s in starts:
            if s not in state:
                dfs(s)
        for n in main:
            if n.id not in state:
                dfs(n.id)

        # Longest path over the acyclic part, in topological order.
        forward = [f for f in self.flows if not f.back]
        fin: dict[str, int] = {n.id: 0 for n in main}
        fsucc: dict[str, list[str]] = {n.id: [] for n in main}
        for f in forward:
            s, t = self.host(f.source), self.host(f.target)
            fsucc[s].append(t)
            fin[t] += 1
        ready = sorted([n for n in fin if fin[n] == 0], key=lambda n: discovery[n])
        rank = {n: 0 for n in fin}
        topo = []
        while ready:
            n = ready.pop(0)
            topo.append(n)
            for t in fsucc[n]:
                rank[t] = max(rank[t], rank[n] + 1)
                fin[t] -= 1
                if fin[t] == 0:
                    ready.append(t)
            ready.sort(key=lambda n: discovery[n])
        for n in main:
            n.rank = rank[n.id]
        self.topo = topo
        self.discovery = discovery
        for n in self.nodes.values():
            if n.attached_to:
                n.rank = self.nodes[n.attached_to].rank

    def assign_rows(self):
        occupied: dict[tuple[int, int], set[int]] = {}
        preds: dict[str, list[Flow]] = {n: [] for n in self.nodes}
        for f in self.flows:
            if not f.back:
                preds[self.host(f.target)].append(f)
        placed: set[str] = set()
        order = sorted((n for n in self.nodes.values() if n.kind != "boundary"),
                       key=lambda n: (n.rank, self.discovery.get(n.id, 0)))
        for node in order:
            preferred = 0
            candidates = [self.nodes[self.host(f.source)] for f in preds[node.id]]
            candidates = [c for c in candidates if c.id in placed and c.lane == node.lane]
            if candidates:
                # the closest predecessor in the same lane sets the row
                best = max(candidates, key=lambda c: (c.rank, -self.discovery.get(c.id, 0)))
                preferred = best.row
            used = occupied.setdefault((node.lane, node.rank), set())
            row = preferred
            if row in used:
                for delta in range(1, 100):
                    if preferred + delta not in used:
                        row = preferred + delta
                        break
                    if preferred - delta >= 0 and preferred - delta not in used:
                        row = preferred - delta
                        break
            used.add(row)
            node.row = row
            placed.add(node.id)
        for lane_index, lane in enumerate(self.lanes):
            rows = [n.row for n in self.nodes.values() if n.lane == lane_index and n.kind != "boundary"]
            lane.rows = max(rows) + 1 if rows else 1

    # ------------------------------------------------------------------ geometry

    def place(self):
        ncols = max((n.rank for n in self.nodes.values()), default=0) + 1
        widths = [0.0] * ncols
        for n in self.nodes.values():
            if n.kind != "boundary":
                widths[n.rank] = max(widths[n.rank], n.w)
        self.col_x = []
        x = LANE_LABEL + LANE_PAD_LEFT
        for w in widths:
            self.col_x.append((x, w))
            x += w + GAP_X
        self.width = x - GAP_X + LANE_PAD_RIGHT

        y = 0.0
        self.row_y: dict[tuple[int, int], float] = {}
        for i, lane in enumerate(self.lanes):
            lane.y = y
            ry = y + LANE_PAD_TOP
            for r in range(lane.rows):
                self.row_y[(i, r)] = ry
                ry += ROW_HEIGHT + GAP_Y
            lane.h = (ry - GAP_Y - y) + LANE_PAD_BOTTOM
            y += lane.h
        self.height = y

        for n in self.nodes.values():
            if n.kind == "boundary":
                continue
            cx = self.col_x[n.rank][0] + self.col_x[n.rank][1] / 2
            cy = self.row_y[(n.lane, n.row)] + ROW_HEIGHT / 2
            n.x, n.y = round(cx - n.w / 2), round(cy - n.h / 2)
        for n in self.nodes.values():
            if n.kind != "boundary" or not n.attached_to:
                continue
            host = self.nodes[n.attached_to]
            index = host.boundaries.index(n.id)
            cx = host.x + host.w - 20 - index * 42
            n.x, n.y = round(cx - n.w / 2), round(host.y + host.h - n.h / 2)

    # ------------------------------------------------------------------ routing

    def ports(self, node: Node, outgoing: bool):
        """(point, outward direction, extra cost) for each usable port."""
        x0, y0, x1, y1 = node.rect
        cx, cy = node.cx, node.cy
        if node.kind == "boundary":
            return [((cx, y1), DOWN, 0.0)]
        side = SIDE_PORT_COST[node.kind]
        result = []
        if outgoing:
            result.append(((x1, cy), RIGHT, 0.0))
        else:
            result.append(((x0, cy), LEFT, 0.0))
        if node.tag == "startEvent" and not outgoing:
            return result
        result.append(((cx, y0), UP, side))
        if not node.boundaries:
            result.append(((cx, y1), DOWN, side))
        return result

    def build_grid(self):
        xs: set[float] = set()
        ys: set[float] = set()
        bounds_x = [LANE_LABEL + 8, self.width - 8]
        # vertical channels: before the first column, between columns, after the last
        edges_x = [(LANE_LABEL, self.col_x[0][0])]
        for i in range(len(self.col_x) - 1):
            edges_x.append((self.col_x[i][0] + self.col_x[i][1], self.col_x[i + 1][0]))
        edges_x.append((self.col_x[-1][0] + self.col_x[-1][1], self.width))
        for a, b in edges_x:
            xs.update(_tracks(a, b))
        # horizontal channels: above the first row, between rows, below the last row
        bands = []
        for i, lane in enumerate(self.lanes):
            tops = [self.row_y[(i, r)] for r in range(lane.rows)]
            prev = lane.y
            for t in tops:
                bands.append((prev, t))
                prev = t + ROW_HEIGHT
            bands.append((prev, lane.y + lane.h))
        for a, b in bands:
            ys.update(_tracks(a, b))
        lane_borders = {round(l.y) for l in self.lanes} | {round(self.height)}
        ys = {y for y in ys if all(abs(y - b) > 4 for b in lane_borders)}
        # Flows run along tracks and the centre lines of shapes; the borders of shapes
        # are grid lines only so that a flow can end there (ports), never corridors.
        travel_x, travel_y = set(xs), set(ys)
        for n in self.nodes.values():
            travel_x.add(n.cx)
            if n.kind != "boundary":
                travel_y.add(n.cy)
            xs.update((n.x, n.cx, n.x + n.w))
            ys.update((n.y, n.cy, n.y + n.h))
        xs = sorted(x for x in xs if bounds_x[0] <= x <= bounds_x[1])
        ys = sorted(y for y in ys if 4 <= y <= self.height - 4)
        self.xs, self.ys = xs, ys
        self.xi = {x: i for i, x in enumerate(xs)}
        self.yi = {y: i for i, y in enumerate(ys)}
        self.travel_x = [x in travel_x for x in xs]     # vertical moves allowed on this x
        self.travel_y = [y in travel_y for y in ys]     # horizontal moves allowed on this y

        # Blockers of each unit segment: shapes whose closed rectangle the segment touches.
        self.hblock: dict[tuple[int, int], set[str]] = {}
        self.vblock: dict[tuple[int, int], set[str]] = {}
        for n in self.nodes.values():
            x0, y0, x1, y1 = n.rect
            # horizontal segments (xi -> xi+1 at row yi)
            for yi, y in enumerate(ys):
                if y0 <= y <= y1:
                    for xi in range(len(xs) - 1):
                        if xs[xi] <= x1 and xs[xi + 1] >= x0:
                            self.hblock.setdefault((xi, yi), set()).add(n.id)
            for xi, x in enumerate(xs):
                if x0 <= x <= x1:
                    for yi in range(len(ys) - 1):
                        if ys[yi] <= y1 and ys[yi + 1] >= y0:
                            self.vblock.setdefault((xi, yi), set()).add(n.id)
        self.used_ports: dict[str, list] = {}
        self.seg_dir: dict[tuple, list] = {}
        self.stubs: dict[tuple, str] = {}
        self.hused: dict[tuple[int, int], list[Flow]] = {}
        self.vused: dict[tuple[int, int], list[Flow]] = {}

    def route(self, flow: Flow):
        src, dst = self.nodes[flow.source], self.nodes[flow.target]
        starts = self.ports(src, True)
        goals = {}
        for (pt, d, cost) in self.ports(dst, False):
            goals[(self.xi[pt[0]], self.yi[pt[1]])] = ((-d[0], -d[1]), cost)
        nx, ny = len(self.xs), len(self.ys)
        heap = []
        best: dict = {}
        gx = [self.xs[g[0]] for g in goals]
        gy = [self.ys[g[1]] for g in goals]

        def h(p):
            x, y = self.xs[p[0]], self.ys[p[1]]
            return BUNDLE_FACTOR * min(abs(x - a) + abs(y - b) for a, b in zip(gx, gy))

        counter = 0
        used_ports = self.used_ports.setdefault(flow.source, [])
        for pt, d, cost in starts:
            if any(port == pt and target != flow.target for port, target, _ in used_ports):
                cost += PORT_REUSE_COST
            if any(d2 == (-d[0], -d[1]) for port, target, d2 in used_ports if target != flow.target):
                cost += OPPOSITE_PORT_COST  # a line straight through the node reads as one flow
            if (not flow.back and src.kind == "gateway" and d != RIGHT
                    and any(g.back for g in self.flows if g.source == flow.source)):
                cost += OPPOSITE_PORT_COST  # keep top and bottom free for the loops
            if flow.back and src.kind == "gateway" and d == RIGHT:
                cost += BACK_RIGHT_COST     # a loop leaving rightwards has to turn round
            p = (self.xi[pt[0]], self.yi[pt[1]])
            state = (p, d, True)
            best[state] = cost
            heapq.heappush(heap, (cost + h(p), counter, cost, state, None))
            counter += 1
        parents = {}
        found = None
        while heap:
            f, _, g, state, parent = heapq.heappop(heap)
            if state in parents:
                continue
            parents[state] = parent
            p, d, first = state
            if not first and p in goals and d == goals[p][0]:
                found = state
                break
            dirs = [d] if first else [RIGHT, LEFT, DOWN, UP]
            for nd in dirs:
                if nd == (-d[0], -d[1]):
                    continue
                q = (p[0] + nd[0], p[1] + nd[1])
                if not (0 <= q[0] < nx and 0 <= q[1] < ny):
                    continue
                if nd[1] == 0:
                    if not self.travel_y[p[1]]:
                        continue
                    key = (min(p[0], q[0]), p[1])
                    blockers = self.hblock.get(key)
                    used = self.hused.get(key)
                    length = abs(self.xs[q[0]] - self.xs[p[0]])
                else:
                    if not self.travel_x[p[0]]:
                        continue
                    key = (p[0], min(p[1], q[1]))
                    blockers = self.vblock.get(key)
                    used = self.vused.get(key)
                    length = abs(self.ys[q[1]] - self.ys[p[1]])
                if blockers:
                    allowed = False
                    if first and blockers == {src.id}:
                        allowed = True
                    elif q in goals and nd == goals[q][0] and blockers <= {dst.id}:
                        allowed = True
                    if not allowed:
                        continue
                cost = length
                if nd != d and not first:
                    cost += BEND_COST
                if used:
                    stub_of = self.stubs.get((nd[1] == 0, key))
                    if stub_of is not None and stub_of != flow.source:
                        # never join another flow where it leaves its source
                        cost += OVERLAP_COST * length
                    elif any(o.source != flow.source and o.target != flow.target for o in used):
                        cost += OVERLAP_COST * length
                    elif any(o.target == flow.target for o in used):
                        cost = cost - length + BUNDLE_FACTOR * length
                # crossing an existing perpendicular flow at q
                if nd[1] == 0:
                    cross = self.vused.get((q[0], q[1])) or self.vused.get((q[0], q[1] - 1))
                else:
                    cross = self.hused.get((q[0], q[1])) or self.hused.get((q[0] - 1, q[1]))
                if cross and any(o.source != flow.source and o.target != flow.target for o in cross):
                    cost += CROSS_COST
                # meeting another flow head-on: two collinear lines read as one
                beyond = (q[0] + nd[0], q[1] + nd[1])
                if any(o is not flow and od == (-nd[0], -nd[1])
                       for o, od in self.seg_dir.get(_seg_key(q, beyond), ())):
                    cost += HEAD_ON_COST
                end_cost = 0.0
                if q in goals and nd == goals[q][0]:
                    end_cost = goals[q][1]
                ng = g + cost + end_cost
                nstate = (q, nd, False)
                if ng < best.get(nstate, float("inf")):
                    best[nstate] = ng
                    heapq.heappush(heap, (ng + h(q), counter, ng, nstate, state))
                    counter += 1
        if found is None:
            # Fallback: a plain orthogonal connector (should not happen on a sane grid).
            a, b = starts[0][0], self.ports(dst, False)[0][0]
            midx = (a[0] + b[0]) / 2
            flow.points = [a, (midx, a[1]), (midx, b[1]), b]
            return
        path = []
        state = found
        while state is not None:
            path.append(state[0])
            state = parents[state]
        path.reverse()
        first_dir = (path[1][0] - path[0][0], path[1][1] - path[0][1])
        in_stub = True
        for p, q in zip(path, path[1:]):
            step = (q[0] - p[0], q[1] - p[1])
            in_stub = in_stub and step == first_dir
            if in_stub:
                key = (min(p[0], q[0]), p[1]) if p[1] == q[1] else (p[0], min(p[1], q[1]))
                self.stubs.setdefault((p[1] == q[1], key), flow.source)
            self.seg_dir.setdefault(_seg_key(p, q), []).append((flow, step))
            if p[1] == q[1]:
                key = (min(p[0], q[0]), p[1])
                self.hused.setdefault(key, []).append(flow)
            else:
                key = (p[0], min(p[1], q[1]))
                self.vused.setdefault(key, []).append(flow)
        pts = [(self.xs[p[0]], self.ys[p[1]]) for p in path]
        used_ports.append((pts[0], flow.target, _direction(pts[0], pts[1])))
        flow.points = _simplify(pts)

    def route_all(self):
        self.build_grid()

        def span(f: Flow):
            s, t = self.nodes[f.source], self.nodes[f.target]
            return (f.back, abs(t.rank - s.rank) + abs(t.lane - s.lane) * 0.5
                    + abs(t.row - s.row) * 0.3)
        for f in sorted(self.flows, key=span):
            self.route(f)

    # ------------------------------------------------------------------ labels

    def place_labels(self):
        obstacles = [(n.x - 3, n.y - 3, n.x + n.w + 3, n.y + n.h + 3) for n in self.nodes.values()]
        segments = []
        for f in self.flows:
            for a, b in zip(f.points, f.points[1:]):
                segments.append((a, b))
        lane_rects = [(LANE_LABEL, l.y, self.width, l.y + l.h) for l in self.lanes]
        placed: list[tuple] = []

        def score(rect, own_segments=()):
            x0, y0, x1, y1 = rect
            s = 0.0
            if not any(lx0 <= x0 and x1 <= lx1 and ly0 <= y0 and y1 <= ly1
                       for lx0, ly0, lx1, ly1 in lane_rects):
                s += 1000
            for o in obstacles:
                s += 300 * _overlap_area(rect, o) ** 0.5
            for o in placed:
                s += 300 * _overlap_area(rect, o) ** 0.5 + (60 if _overlap_area(rect, o) > 0 else 0)
            for a, b in segments:
                if _seg_hits_rect(a, b, (x0 - 2, y0 - 2, x1 + 2, y1 + 2)):
                    s += 150
            return s

        # Event, gateway and boundary labels.
        for n in sorted(self.nodes.values(), key=lambda n: (n.rank, n.lane, n.row)):
            if n.kind == "activity" or not n.name.strip():
                continue
            w, h = text_size(n.name)
            cx = n.cx
            cands = []
            for r in (4, 22, 40, 58, 76, 94):
                cands += [
                    (cx - w / 2, n.y + n.h + r),            # below
                    (cx - w / 2, n.y - h - r),              # above
                    (n.x + n.w + 4, n.y + n.h - 2 + r),     # below right
                    (n.x + n.w + 4, n.y - h + 2 - r),       # above right
                    (n.x - w - 4, n.y - h + 2 - r),         # above left
                    (n.x - w - 4, n.y + n.h - 2 + r),       # below left
                    (n.x + n.w + r, n.cy - h / 2),          # right
                    (n.x - w - r, n.cy - h / 2),            # left
                ]
            if n.kind == "boundary":
                cands = [(n.x + n.w + 2, n.y + n.h), (n.x - w - 2, n.y + n.h),
                         (cx - w / 2, n.y + n.h + 4), (n.x + n.w + 2, n.y + n.h + 20),
                         (n.x - w - 2, n.y + n.h + 20)] + cands
            n.label = self._best(cands, w, h, score)
            placed.append(n.label)

        # Flow labels where the flow leaves its siblings (flows of the same source).
        for f in self.flows:
            if not f.name.strip():
                continue
            w, h = text_size(f.name)
            siblings = [g for g in self.flows if g.source == f.source and g is not f]
            cands = []
            for a, b in _own_segments(f.points, siblings)[:5]:
                if a[1] == b[1]:       # horizontal: above or below the line
                    sign = 1 if b[0] > a[0] else -1
                    length = abs(b[0] - a[0])
                    for t in _steps(length - w - 6):
                        x = a[0] + 6 + t if sign > 0 else a[0] - 6 - t - w
                        cands.append((x, a[1] - h - 2))
                        cands.append((x, a[1] + 3))
                else:                  # vertical
                    sign = 1 if b[1] > a[1] else -1
                    length = abs(b[1] - a[1])
                    for t in _steps(length - h - 6):
                        y = a[1] + 6 + t if sign > 0 else a[1] - 6 - t - h
                        cands.append((a[0] + 4, y))
                        cands.append((a[0] - w - 4, y))
            if not cands:
                cands = [(f.points[0][0] + 4, f.points[0][1] - h - 2)]
            f.label = self._best(cands, w, h, score)
            placed.append(f.label)

    @staticmethod
    def _best(cands, w, h, score):
        best, best_score = None, None
        for x, y in cands:
            rect = (round(x), round(y), round(x) + w, round(y) + h)
            s = score(rect)
            if best_score is None or s < best_score - 1e-9:
                best, best_score = rect, s
            if s == 0:
                break
        return best

    # ------------------------------------------------------------------ run

    def run(self):
        self.rank_nodes()
        self.assign_rows()
        self.place()
        self.route_all()
        self.place_labels()


def _steps(room: float, step: float = 12.0, limit: int = 12) -> list[float]:
    """Offsets 0, step, 2*step ... that fit into ``room`` (at least the offset 0)."""
    out = [0.0]
    t = step
    while t <= room and len(out) < limit:
        out.append(t)
        t += step
    return out


def _seg_key(p, q):
    """Key of the unit grid segment between grid points p and q (either order)."""
    return (min(p, q), max(p, q))


def _direction(a, b):
    if a[1] == b[1]:
        return RIGHT if b[0] > a[0] else LEFT
    return DOWN if b[1] > a[1] else UP


def _tracks(a: float, b: float) -> list[float]:
    """Evenly spaced routing tracks inside the free band (a, b)."""
    lo, hi = a + TRACK_CLEARANCE, b - TRACK_CLEARANCE
    if hi <= lo:
        return [round((a + b) / 2)]
    n = min(MAX_TRACKS, int((hi - lo) // TRACK_SPACING) + 1)
    if n <= 1:
        return [round((a + b) / 2)]
    return [round(lo + (hi - lo) * k / (n - 1)) for k in range(n)]


def _simplify(points):
    out = []
    for p in points:
        if out and out[-1] == p:
            continue
        if len(out) >= 2:
            a, b = out[-2], out[-1]
            if (a[0] == b[0] == p[0]) or (a[1] == b[1] == p[1]):
                out[-1] = p
                continue
        out.append(p)
    return out


def _own_segments(points, siblings):
    """The segments of a polyline from the point where it stops running along any sibling."""
    sib_segments = []
    for g in siblings:
        sib_segments.extend(zip(g.points, g.points[1:]))

    def covered_until(a, b):
        """How far from a towards b the segment is covered by sibling segments."""
        horizontal = a[1] == b[1]
        axis = 0 if horizontal else 1
        sign = 1 if b[axis] >= a[axis] else -1
        pos = a[axis]
        moved = True
        while moved:
            moved = False
            for p, q in sib_segments:
                if horizontal and not (p[1] == q[1] == a[1]):
                    continue
                if not horizontal and not (p[0] == q[0] == a[0]):
                    continue
                lo, hi = sorted((p[axis], q[axis]))
                if lo <= pos <= hi:
                    end = hi if sign > 0 else lo
                    if (end - pos) * sign > 0:
                        pos = end
                        moved = True
        return pos

    segments = list(zip(points, points[1:]))
    for i, (a, b) in enumerate(segments):
        horizontal = a[1] == b[1]
        axis = 0 if horizontal else 1
        pos = covered_until(a, b)
        if (b[axis] - pos) * (1 if b[axis] >= a[axis] else -1) > 0:
            start = (pos, a[1]) if horizontal else (a[0], pos)
            return [(start, b)] + segments[i + 1:]
    return segments[-1:]


def _overlap_area(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _seg_hits_rect(a, b, r) -> bool:
    x0, y0, x1, y1 = r
    if a[1] == b[1]:
        lo, hi = min(a[0], b[0]), max(a[0], b[0])
        return y0 < a[1] < y1 and lo < x1 and hi > x0
    lo, hi = min(a[1], b[1]), max(a[1], b[1])
    return x0 < a[0] < x1 and lo < y1 and hi > y0


# --------------------------------------------------------------------------- DI

def _q(ns, tag):
    return "{%s}%s" % (ns, tag)


def _bounds(parent, x, y, w, h):
    etree.SubElement(parent, _q(DC_NS, "Bounds"), x=_num(x), y=_num(y), width=_num(w), height=_num(h))


def _num(v) -> str:
    v = round(float(v), 1)
    return str(int(v)) if v == int(v) else str(v)


def _write_di(definitions, proc: _Process):
    pid = proc.el.get("id")
    diagram = etree.SubElement(definitions, _q(BPMNDI_NS, "BPMNDiagram"), id=f"{pid}_diagram")
    plane = etree.SubElement(diagram, _q(BPMNDI_NS, "BPMNPlane"), id=f"{pid}_plane", bpmnElement=pid)
    for lane in proc.lanes:
        if not lane.id:
            continue
        shape = etree.SubElement(plane, _q(BPMNDI_NS, "BPMNShape"), id=f"{lane.id}_di",
                                 bpmnElement=lane.id, isHorizontal="true")
        _bounds(shape, 0, lane.y, proc.width, lane.h)
    ordered = sorted(proc.nodes.values(), key=lambda n: (n.kind == "boundary", n.order))
    for n in ordered:
        attrs = {"id": f"{n.id}_di", "bpmnElement": n.id}
        if n.tag == "exclusiveGateway":
            attrs["isMarkerVisible"] = "true"
        if n.tag in ("subProcess", "transaction"):
            attrs["isExpanded"] = "false"
        shape = etree.SubElement(plane, _q(BPMNDI_NS, "BPMNShape"), **attrs)
        _bounds(shape, n.x, n.y, n.w, n.h)
        if n.label:
            label = etree.SubElement(shape, _q(BPMNDI_NS, "BPMNLabel"))
            x0, y0, x1, y1 = n.label
            _bounds(label, x0, y0, x1 - x0, y1 - y0)
    for f in proc.flows:
        edge = etree.SubElement(plane, _q(BPMNDI_NS, "BPMNEdge"), id=f"{f.id}_di", bpmnElement=f.id)
        for x, y in f.points:
            etree.SubElement(edge, _q(DI_NS, "waypoint"), x=_num(x), y=_num(y))
        if f.label:
            label = etree.SubElement(edge, _q(BPMNDI_NS, "BPMNLabel"))
            x0, y0, x1, y1 = f.label
            _bounds(label, x0, y0, x1 - x0, y1 - y0)


def layout_tree(tree):
    """Lay out every process of ``tree`` (an lxml tree or root element).

    Returns a new root element: a copy of the document whose ``bpmndi:BPMNDiagram``
    elements are replaced by freshly computed ones.  The input is not modified and
    the process semantics are copied unchanged.
    """
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    root = copy.deepcopy(root)
    if root.find("bpmn:collaboration", NS) is not None:
        raise ValueError("collaborations (pools) are not supported: model lanes inside the process")
    for diagram in root.findall("bpmndi:BPMNDiagram", NS):
        root.remove(diagram)
    for process in root.findall("bpmn:process", NS):
        proc = _Process(process)
        if not proc.nodes:
            continue
        proc.run()
        _write_di(root, proc)
    return root


def layout_file(path) -> None:
    """Rewrite the ``bpmndi`` section of the BPMN file at ``path`` in place."""
    from workflows.engine.xmlsafe import parse     # a diagram is input: no DTDs, entities or network

    path = Path(path)
    root = layout_tree(parse(path.read_bytes()))
    etree.indent(root, space="  ")
    data = etree.tostring(root, encoding="UTF-8", pretty_print=True)
    path.write_bytes(b'<?xml version="1.0" encoding="UTF-8"?>\n' + data)


def main(argv=None) -> int:
    import sys
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m workflows.layout FILE.bpmn [...]")
        return 2
    for name in args:
        layout_file(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
