// BPMN diagrams: render every <div class="bpmn-diagram"> with the vendored bpmn-js Viewer
// (global BpmnJS, loaded before this file) and paint data from the page onto it:
//   data-mode="state"  - one case: done / current / overdue / failed elements, flows taken
//   data-mode="counts" - one process definition: waiting and overdue tasks per element
//   data-mode="heat"   - one process definition: mean and P90 time spent per element
// The data comes from the <script type="application/json"> block named by data-overlays;
// every text a user reads comes from data-label-* attributes, so translations stay on the server.
// Plain ES2017 in an IIFE: the strict CSP allows no inline script and we have no build step.
(function () {
  'use strict';

  var SVG_NS = 'http://www.w3.org/2000/svg';
  // Below this zoom the 12px labels inside tasks shrink to ~6px. On narrow screens we keep
  // this scale and let the box scroll sideways instead of shrinking the diagram further.
  var MIN_SCALE = 0.5;
  // Margin (diagram units) around the diagram, so badges on edge elements are not cut off.
  var PAD = 24;
  var MIN_HEIGHT = 200;
  var MAX_HEIGHT = 0.75; // of the window height: a tall diagram is shrunk (down to MIN_SCALE) to show whole

  var boxes = Array.prototype.slice.call(document.querySelectorAll('.bpmn-diagram'));
  if (!boxes.length) { return; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function warn(box, detail) {
    if (window.console) { console.warn('bpmn-diagram:', detail); }
    if (box.querySelector('.diagram-alert')) { return; }
    var alert = el('div', 'alert alert-warning diagram-alert small py-1 px-2 m-2',
      box.dataset.labelError || String(detail && detail.message || detail));
    alert.setAttribute('role', 'status');
    box.insertBefore(alert, box.firstChild);
  }

  // The JSON block may be missing or broken (e.g. an empty statistics query); the diagram
  // is still worth showing without decorations, so never throw here.
  function readJson(id) {
    var node = id && document.getElementById(id);
    if (!node) { return {}; }
    try { return dict(JSON.parse(node.textContent)); } catch (e) { return {}; }
  }

  function list(value) { return Array.isArray(value) ? value : []; }
  function dict(value) { return value && typeof value === 'object' && !Array.isArray(value) ? value : {}; }
  function count(value) { var n = Number(value); return isFinite(n) && n > 0 ? Math.floor(n) : 0; }

  // Only http(s) URLs are followed: the JSON is ours, but a javascript: URL slipping in
  // through a process definition would otherwise become a click target.
  function safeUrl(url) {
    if (typeof url !== 'string' || !url) { return null; }
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
    } catch (e) { return null; }
  }

  // Shapes are not links, so honour Ctrl/Cmd/Shift-click ("open in new tab") by hand.
  function go(url, event) {
    if (event && (event.ctrlKey || event.metaKey || event.shiftKey)) { window.open(url, '_blank', 'noopener'); }
    else { window.location.assign(url); }
  }

  // "均" + "3.2天" -> "均 3.2天"; a label may also carry its own place holder: "{n} waiting".
  function phrase(label, value) {
    if (!label) { return String(value); }
    return label.indexOf('{n}') >= 0 ? label.replace('{n}', value) : label + ' ' + value;
  }

  // Seconds in the largest unit that keeps the number readable, one decimal.
  // Units come from the page (data-label-seconds/-minutes/-hours/-days, "{n}" allowed as in
  // phrase); the fallbacks are unit symbols, not words.
  function duration(box, seconds) {
    var s = Number(seconds) || 0;
    var unit = s < 60 ? [1, box.dataset.labelSeconds || 's']
      : s < 3600 ? [60, box.dataset.labelMinutes || 'min']
      : s < 86400 ? [3600, box.dataset.labelHours || 'h'] : [86400, box.dataset.labelDays || 'd'];
    var n = (s / unit[0]).toFixed(1);
    return unit[1].indexOf('{n}') >= 0 ? unit[1].replace('{n}', n) : n + unit[1];
  }

  // ---- one shared tooltip, fixed to the window so no scroll box can clip it ----
  var tip = null;
  var tipAnchor = null;

  function placeTip() {
    var r = tipAnchor.getBoundingClientRect();
    if (r.bottom < 0 || r.top > window.innerHeight) { hideTip(); return; }
    var left = Math.max(8, Math.min(r.left + r.width / 2 - tip.offsetWidth / 2, window.innerWidth - tip.offsetWidth - 8));
    var top = r.top - tip.offsetHeight - 8;
    if (top < 8) { top = r.bottom + 8; } // no room above: show it below the element
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
  }

  function showTip(anchor, title, text) {
    if (!tip) {
      tip = el('div', 'diagram-tip');
      tip.id = 'diagram-tip';
      tip.setAttribute('role', 'tooltip');
      document.body.appendChild(tip);
    }
    tip.replaceChildren();
    if (title) { tip.appendChild(el('div', 'diagram-tip-title', title)); }
    tip.appendChild(el('div', 'diagram-tip-text', text));
    tip.hidden = false;
    tipAnchor = anchor;
    placeTip();
  }

  function hideTip() {
    if (tip) { tip.hidden = true; }
    tipAnchor = null;
  }

  // Focusing an element scrolls it into view, so follow the anchor instead of hiding.
  window.addEventListener('scroll', function () { if (tipAnchor) { placeTip(); } }, true);
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') { hideTip(); } });

  // ---- per diagram ----

  function Diagram(box) {
    this.box = box;
    this.mode = box.dataset.mode || 'state';
    this.host = el('div', 'bpmn-canvas');
    box.appendChild(this.host);
    this.viewer = new window.BpmnJS({ container: this.host });
    this.canvas = this.viewer.get('canvas');
    this.registry = this.viewer.get('elementRegistry');
    this.overlays = this.viewer.get('overlays');
    this.urls = {}; // element id -> where a click goes
    this.tips = {}; // element id -> tooltip text
  }

  Diagram.prototype.load = function () {
    var self = this;
    var box = this.box;
    return fetch(box.dataset.xmlUrl, { credentials: 'same-origin', headers: { Accept: 'application/xml, text/xml' } })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status + ' ' + box.dataset.xmlUrl); }
        return response.text();
      })
      .then(function (xml) { return self.viewer.importXML(xml); })
      .then(function (result) {
        // Warnings mean parts of the model were skipped: still show what we have, but say so.
        if (result && result.warnings && result.warnings.length) { warn(box, result.warnings); }
        box.classList.add('is-ready');
        self.bounds = self.canvas.viewbox().inner;
        self.fit();
        self.decorate(readJson(box.dataset.overlays));
        self.listen();
      })
      .catch(function (err) {
        box.classList.add('is-failed');
        warn(box, err);
      });
  };

  // Like canvas.zoom('fit-viewport'), plus: the box gets the diagram's aspect ratio (no empty
  // bands above and below), a margin for badges, and a minimum scale (scroll sideways on phones).
  Diagram.prototype.fit = function () {
    var avail = this.box.clientWidth;
    var b = this.bounds;
    if (!avail || !b || !b.width) { return; } // hidden (e.g. a closed tab): fit when it shows
    this.fitted = avail + 'x' + window.innerHeight;
    var w = b.width + 2 * PAD, h = b.height + 2 * PAD;
    // Fit width and a window-sized height (what fit-viewport would do) without zooming in,
    // but never below MIN_SCALE: then the box grows taller or scrolls sideways instead.
    var scale = Math.max(Math.min(1, avail / w, window.innerHeight * MAX_HEIGHT / h), MIN_SCALE);
    var height = Math.max(h * scale, MIN_HEIGHT);
    var width = Math.max(avail, w * scale);
    this.host.style.width = width > avail ? width + 'px' : '';
    this.host.style.height = Math.round(height) + 'px';
    this.canvas.resized();
    var vw = this.host.clientWidth / scale, vh = this.host.clientHeight / scale;
    this.canvas.viewbox({ x: b.x - (vw - b.width) / 2, y: b.y - (vh - b.height) / 2, width: vw, height: vh });
  };

  Diagram.prototype.element = function (id) {
    var element = typeof id === 'string' ? this.registry.get(id) : null;
    return element && element.parent ? element : null; // ignore unknown ids and the root
  };

  Diagram.prototype.mark = function (id, className) {
    var element = this.element(id);
    if (element) { this.canvas.addMarker(element, className); }
    return element;
  };

  Diagram.prototype.name = function (element) {
    var bo = element.businessObject;
    return (bo && bo.name ? String(bo.name) : element.id).replace(/\s+/g, ' ');
  };

  Diagram.prototype.addOverlay = function (element, type, position, html) {
    // scale: false keeps badges readable however far the diagram is zoomed out.
    this.overlays.add(element.id, type, { position: position, html: html, scale: false });
  };

  // A badge or label that is a real link when there is somewhere to go: keyboard users
  // reach the data through these, the SVG shapes themselves are only mouse targets.
  Diagram.prototype.badge = function (className, text, label, url) {
    var node = el(url ? 'a' : 'span', className, text);
    if (url) { node.href = url; } else { node.setAttribute('role', 'img'); }
    node.setAttribute('aria-label', label);
    node.title = label;
    return node;
  };

  // For elements without a badge to tab to: make the shape itself focusable.
  Diagram.prototype.focusable = function (element, url) {
    var self = this;
    var gfx = this.registry.getGraphics(element);
    if (!gfx || gfx.hasAttribute('tabindex')) { return; }
    gfx.setAttribute('tabindex', '0');
    gfx.setAttribute('role', url ? 'link' : 'img');
    gfx.setAttribute('aria-label', this.tips[element.id] ? this.name(element) + ': ' + this.tips[element.id] : this.name(element));
    gfx.addEventListener('focus', function () { self.showTip(element); });
    gfx.addEventListener('blur', hideTip);
    if (url) {
      gfx.addEventListener('keydown', function (e) {
        if (e.key === 'Enter') { go(url, e); }
      });
    }
  };

  Diagram.prototype.showTip = function (element) {
    var text = this.tips[element.id];
    var gfx = this.registry.getGraphics(element);
    if (text && gfx) { showTip(gfx, this.name(element), text); }
  };

  Diagram.prototype.decorate = function (data) {
    if (this.mode === 'counts') { this.decorateCounts(dict(data.elements)); }
    else if (this.mode === 'heat') { this.decorateHeat(dict(data.elements)); }
    else { this.decorateState(data); }
  };

  // ---- mode "state": one case ----
  Diagram.prototype.decorateState = function (data) {
    var self = this;
    var busy = {};
    list(data.current).concat(list(data.overdue), [data.error]).forEach(function (id) { busy[id] = true; });
    // A looped-back element can be both completed and current: the live state wins.
    list(data.completed).forEach(function (id) { if (!busy[id]) { self.mark(id, 'done'); } });
    list(data.current).forEach(function (id) { self.mark(id, 'current'); });
    list(data.overdue).forEach(function (id) { self.mark(id, 'overdue'); });
    if (data.error) { this.mark(data.error, 'failed'); }
    list(data.flows).forEach(function (id) { self.mark(id, 'taken'); });

    Object.keys(dict(data.tips)).forEach(function (id) {
      var element = self.element(id);
      if (!element || !data.tips[id]) { return; }
      self.tips[id] = String(data.tips[id]);
      // The native SVG title also gives screen readers and no-hover devices the text.
      var title = document.createElementNS(SVG_NS, 'title');
      title.textContent = self.name(element) + '\n' + self.tips[id];
      var gfx = self.registry.getGraphics(element);
      gfx.insertBefore(title, gfx.firstChild);
    });

    var links = dict(data.links);
    Object.keys(links).forEach(function (id) {
      var element = self.element(id), url = safeUrl(links[id]);
      if (!element || !url) { return; }
      self.urls[id] = url;
      self.canvas.addMarker(element, 'has-link');
      var badge = self.badge('diagram-link-badge', '↘', self.name(element) + (self.box.dataset.labelLink ? ' · ' + self.box.dataset.labelLink : ''), url);
      badge.addEventListener('focus', function () { self.showTip(element); });
      badge.addEventListener('blur', hideTip);
      self.addOverlay(element, 'diagram-link', { top: 0, right: 0 }, badge);
    });

    Object.keys(this.tips).forEach(function (id) {
      if (!self.urls[id]) { self.focusable(self.element(id), null); }
    });
  };

  // ---- mode "counts": waiting / overdue tasks per element, like Camunda Cockpit ----
  Diagram.prototype.decorateCounts = function (elements) {
    var self = this;
    var box = this.box;
    Object.keys(elements).forEach(function (id) {
      var element = self.element(id), info = dict(elements[id]);
      if (!element) { return; }
      var url = safeUrl(info.url), waiting = count(info.waiting), overdue = count(info.overdue);
      var name = self.name(element);
      if (url) {
        self.urls[id] = url;
        self.canvas.addMarker(element, 'has-link');
      }
      var wrap = el('div', 'diagram-badges');
      if (waiting) {
        wrap.appendChild(self.badge('diagram-badge diagram-badge-waiting', String(waiting),
          name + ': ' + phrase(box.dataset.labelWaiting, waiting), url));
      }
      if (overdue) {
        wrap.appendChild(self.badge('diagram-badge diagram-badge-overdue', String(overdue),
          name + ': ' + phrase(box.dataset.labelOverdue, overdue), url));
      }
      if (wrap.children.length) {
        self.addOverlay(element, 'diagram-count', { bottom: 0, left: 0 }, wrap);
      } else if (url) {
        self.focusable(element, url);
      }
    });
  };

  // ---- mode "heat": time spent per element, coloured relative to the slowest ----
  Diagram.prototype.decorateHeat = function (elements) {
    var self = this;
    var box = this.box;
    var rows = Object.keys(elements).map(function (id) {
      var info = dict(elements[id]);
      return { element: self.element(id), info: info, mean: Number(info.mean_s) };
    }).filter(function (row) { return row.element && isFinite(row.mean) && row.mean >= 0; });
    var slowest = Math.max.apply(null, rows.map(function (row) { return row.mean; }).concat([0]));

    rows.forEach(function (row) {
      var element = row.element, info = row.info;
      // Five equal bands of mean / slowest: the slowest element is always heat-5.
      var level = slowest > 0 ? Math.min(5, Math.max(1, Math.ceil(row.mean / slowest * 5))) : 1;
      self.canvas.addMarker(element, 'heat-' + level);
      var lines = [phrase(box.dataset.labelMean, duration(box, row.mean))];
      if (info.p90_s !== undefined && info.p90_s !== null && isFinite(Number(info.p90_s))) {
        lines.push(phrase(box.dataset.labelP90, duration(box, info.p90_s)));
      }
      var label = self.name(element) + ': ' + lines.join(' · ');
      if (box.dataset.labelCount && count(info.count)) { label += ' · ' + phrase(box.dataset.labelCount, count(info.count)); }
      var url = safeUrl(info.url);
      if (url) {
        self.urls[element.id] = url;
        self.canvas.addMarker(element, 'has-link');
      }
      // Two short lines above the element rather than one long one: at the zoom a whole
      // process needs, neighbouring tasks are less than 100px apart.
      var pill = self.badge('diagram-heat-label', null, label, url);
      lines.forEach(function (line) { pill.appendChild(el('span', null, line)); });
      self.addOverlay(element, 'diagram-heat', { top: 0, left: element.width / 2 }, pill);
    });
  };

  // Mouse interaction through diagram-js events; an external label (under an event or
  // gateway) stands for its element.
  Diagram.prototype.listen = function () {
    var self = this;
    var bus = this.viewer.get('eventBus');
    function target(e) { return e.element && (e.element.labelTarget || e.element); }
    bus.on('element.hover', function (e) {
      var element = target(e);
      if (element && self.tips[element.id]) { self.showTip(element); }
    });
    bus.on('element.out', hideTip);
    bus.on('element.click', function (e) {
      var element = target(e);
      if (!element) { return; }
      if (self.urls[element.id]) { go(self.urls[element.id], e.originalEvent); }
      else if (self.tips[element.id]) { self.showTip(element); } // touch screens have no hover
    });
  };

  if (typeof window.BpmnJS !== 'function') {
    boxes.forEach(function (box) { box.classList.add('is-failed'); warn(box, 'BpmnJS not loaded'); });
    return;
  }

  var diagrams = boxes.map(function (box) {
    var diagram = new Diagram(box);
    diagram.load();
    return diagram;
  });

  // Re-fit when the box changes width: window resize, but also a tab or collapse being opened.
  function refit() {
    hideTip();
    diagrams.forEach(function (d) {
      // Our own height change also reaches the observer: only refit when the size we fit to changed.
      if (d.bounds && d.box.clientWidth + 'x' + window.innerHeight !== d.fitted) { d.fit(); }
    });
  }
  var pending = 0;
  function scheduleRefit() {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(refit);
  }
  window.addEventListener('resize', scheduleRefit);
  if (window.ResizeObserver) {
    var observer = new ResizeObserver(scheduleRefit);
    boxes.forEach(function (box) { observer.observe(box); });
  }
})();
