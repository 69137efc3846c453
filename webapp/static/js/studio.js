// The studio editor page: opens the model (BPMN with the Camunda properties panel, or a DMN decision
// table) with the vendored SanxiangStudio bundle, and talks to the server for everything that is a
// rule: saving a draft, validation, the form preview, the dry run, the diff. Every text a user reads
// comes from data-msg-* attributes or from the server, so translations stay on the server.
// Plain ES2017 in an IIFE: the strict CSP allows no inline script.
(function () {
  'use strict';

  var root = document.getElementById('studio');
  if (!root || !window.SanxiangStudio) { return; }
  var data = root.dataset;
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById('studio-status');
  var problemsBox = document.getElementById('studio-problems');
  var previewBox = document.getElementById('studio-preview');
  var editor = null;
  var selected = null;
  var dirty = false;
  var parentVersion = data.parentVersion ? parseInt(data.parentVersion, 10) : null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function say(text, kind) {
    status.textContent = text;
    status.className = 'small mb-2 ' + (kind === 'error' ? 'text-danger' : kind === 'ok' ? 'text-success' : 'text-body-secondary');
  }

  function markDirty(value) {
    dirty = value;
    if (value) { say(data.msgUnsaved); }
  }

  // The first message of a JSON refusal ({errors: {field: [..]}} or {problems: [..]}).
  function refusalText(body) {
    if (body && body.errors) {
      var lists = Object.keys(body.errors).map(function (k) { return body.errors[k]; });
      if (lists.length && lists[0].length) { return lists[0][0]; }
    }
    if (body && body.problems && body.problems.length) { return body.problems[0].message; }
    if (body && body.message) { return body.message; }
    return data.msgFailed;
  }

  function post(url, payload) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRFToken': token },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { ok: response.ok, status: response.status, body: body };
      });
    });
  }

  function withXml(fn) {
    return editor.getXml().then(fn).catch(function (err) {
      say(data.msgFailed + ' ' + (err && err.message ? err.message : ''), 'error');
    });
  }

  // Select an element and bring it into view at a readable zoom (large models open zoomed out).
  function focus(id) {
    if (!editor.select || !editor.select(id)) { return; }
    var canvas = editor.modeler.get('canvas');
    if (canvas.zoom() < 0.8) { canvas.zoom(1); }
    canvas.scrollToElement(editor.modeler.get('elementRegistry').get(id));
  }

  // --- actions ---------------------------------------------------------------------------------

  function save() {
    return withXml(function (xml) {
      return post(data.saveUrl, { xml: xml, parent_version: parentVersion }).then(function (r) {
        if (!r.ok) { say(refusalText(r.body), 'error'); return; }
        dirty = false;
        say(r.body.message, 'ok');
      });
    });
  }

  function showProblems(problems) {
    problemsBox.textContent = '';
    if (!problems.length) {
      problemsBox.appendChild(el('p', 'text-success mb-0', data.msgNoProblems));
      if (editor.markProblems) { editor.markProblems([]); }
      return;
    }
    problemsBox.appendChild(el('p', 'text-danger mb-1', data.msgProblems));
    var list = el('ul', 'list-unstyled mb-0 studio-problem-list');
    problems.forEach(function (p) {
      var item = el('li', 'mb-1');
      var button = el('button', 'btn btn-link btn-sm p-0 text-start text-danger', (p.element ? p.element + ': ' : '') + p.message);
      button.type = 'button';
      button.dataset.element = p.element || '';
      if (p.file && p.file !== data.filename) { button.textContent = p.file + ' · ' + button.textContent; }
      button.addEventListener('click', function () { if (p.element) { focus(p.element); } });
      item.appendChild(button);
      list.appendChild(item);
    });
    problemsBox.appendChild(list);
    if (editor.markProblems) {
      editor.markProblems(problems.filter(function (p) { return p.element && (!p.file || p.file === data.filename); })
        .map(function (p) { return { element: p.element, message: p.message }; }));
    }
  }

  function validate() {
    return withXml(function (xml) {
      return post(data.validateUrl, { xml: xml }).then(function (r) {
        if (!r.ok) { say(refusalText(r.body), 'error'); return; }
        say('');
        showProblems(r.body.problems);
      });
    });
  }

  function preview() {
    if (!selected) { previewBox.textContent = data.msgSelectTask; return Promise.resolve(); }
    return withXml(function (xml) {
      return post(data.previewUrl, { xml: xml, element: selected }).then(function (r) {
        if (!r.ok) { previewBox.textContent = refusalText(r.body); return; }
        previewBox.innerHTML = r.body.html;  // rendered and escaped by the server's templates
      });
    });
  }

  function compare() {
    var box = document.getElementById('studio-diff');
    return withXml(function (xml) {
      return post(data.diffUrl, { xml: xml }).then(function (r) {
        if (!r.ok) { box.textContent = refusalText(r.body); return; }
        box.textContent = '';
        var elements = r.body.elements || [];
        if (!elements.length) { box.appendChild(el('p', 'mb-0', data.msgNoChanges)); }
        var list = el('ul', 'list-unstyled mb-0 studio-diff-list');
        var marks = { added: [], removed: [], changed: [] };
        elements.forEach(function (e) {
          marks[e.status].push(e.id);
          var item = el('li', 'mb-2 diff-' + e.status);
          var head = el('button', 'btn btn-link btn-sm p-0 text-start fw-semibold',
                        e.kind_label + ' “' + (e.name || e.id) + '” (' + e.id + ')');
          head.type = 'button';
          head.addEventListener('click', function () { focus(e.id); });
          item.appendChild(head);
          var changes = el('ul', 'mb-0 ps-3');
          e.changes.forEach(function (c) { changes.appendChild(el('li', null, c.description)); });
          item.appendChild(changes);
          list.appendChild(item);
        });
        box.appendChild(list);
        if (editor.markChanges) { editor.markChanges(marks); }
      });
    });
  }

  var scenarioBox = document.getElementById('dryrun-scenario');
  var examples = document.getElementById('dryrun-examples');
  var exampleSelect = document.getElementById('dryrun-example');
  function showExample() {
    if (!exampleSelect || !exampleSelect.value) { return; }
    var scenario = JSON.parse(examples.textContent)[exampleSelect.value];
    scenarioBox.value = JSON.stringify({ data: scenario.data || {}, steps: scenario.steps || [] }, null, 2);
    document.getElementById('dryrun-process').value = scenario.process || '';
  }
  if (exampleSelect) { exampleSelect.addEventListener('change', showExample); showExample(); }

  function dryRun() {
    var box = document.getElementById('studio-dryrun');
    var scenario;
    try { scenario = JSON.parse(scenarioBox.value); } catch (err) {
      box.textContent = data.msgBadJson + err.message; return Promise.resolve();
    }
    return withXml(function (xml) {
      var process = document.getElementById('dryrun-process').value.trim();
      return post(data.dryrunUrl, { xml: xml, process: process, scenario: scenario }).then(function (r) {
        if (!r.ok) { box.textContent = refusalText(r.body); return; }
        var run = r.body;
        box.textContent = '';
        var head = run.status === 'completed' ? data.msgStatusCompleted :
          run.status === 'waiting' ? data.msgStatusWaiting + run.waiting.join('、') : data.msgStatusFailed;
        box.appendChild(el('p', 'fw-semibold mb-1 ' + (run.status === 'failed' ? 'text-danger' : 'text-success'), head));
        if (run.error) {
          var error = el('div', 'alert alert-danger py-1 px-2 mb-2', (run.error.element ? run.error.element + ': ' : '') + run.error.message);
          Object.keys(run.error.fields || {}).forEach(function (f) {
            error.appendChild(el('div', 'small', f + ': ' + run.error.fields[f].join(' ')));
          });
          box.appendChild(error);
          if (run.error.element) { focus(run.error.element); }
        }
        var steps = el('ol', 'ps-3 mb-2');
        run.steps.forEach(function (step) {
          var item = el('li', 'mb-1');
          item.appendChild(el('span', 'fw-semibold', step.name + ' '));
          item.appendChild(el('code', 'small', step.task));
          if (step.role) { item.appendChild(el('span', 'text-body-secondary', ' · ' + step.role)); }
          var details = el('details');
          details.appendChild(el('summary', 'small', data.msgData));
          details.appendChild(el('pre', 'small mb-0 studio-json', JSON.stringify(step.data, null, 1)));
          item.appendChild(details);
          steps.appendChild(item);
        });
        box.appendChild(steps);
        (run.notes || []).forEach(function (note) { box.appendChild(el('p', 'small text-body-secondary mb-0', note)); });
        var path = { done: [], current: [], failed: [], flows: [] };
        Object.keys(run.paths || {}).forEach(function (pid) {
          var p = run.paths[pid];
          path.done = path.done.concat(p.done); path.current = path.current.concat(p.current);
          path.flows = path.flows.concat(p.flows);
          if (p.failed) { path.failed.push(p.failed); }
        });
        if (editor.markPath) { editor.markPath(path); }
      });
    });
  }

  var actions = { save: save, validate: validate, preview: preview, compare: compare, dryrun: dryRun };
  root.querySelectorAll('[data-action]').forEach(function (button) {
    button.addEventListener('click', function () {
      button.disabled = true;
      Promise.resolve(actions[button.dataset.action]()).then(function () { button.disabled = false; });
    });
  });

  window.addEventListener('beforeunload', function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ''; }
  });

  // --- opening ---------------------------------------------------------------------------------

  fetch(data.source, { credentials: 'same-origin' }).then(function (response) {
    if (!response.ok) { throw new Error(response.status + ''); }
    return response.text();
  }).then(function (xml) {
    if (data.kind === 'dmn') {
      return window.SanxiangStudio.openDmn({ container: '#studio-dmn', xml: xml });
    }
    return window.SanxiangStudio.openBpmn({ canvas: '#studio-canvas', properties: '#studio-properties',
                                            xml: xml, language: data.language });
  }).then(function (opened) {
    editor = opened;
    root.studioEditor = opened;  // for the browser tests
    if (editor.onSelect) { editor.onSelect(function (id) { selected = id; }); }
    if (editor.onChange) {
      editor.onChange(function () { markDirty(true); });
    } else if (editor.modeler && editor.modeler.getActiveViewer()) {  // a decision table
      editor.modeler.getActiveViewer().on('elements.changed', function () { markDirty(true); });
    }
    say('');
    root.dataset.ready = 'true';
  }).catch(function (err) {
    say(data.msgOpenFailed + (err && err.message ? err.message : ''), 'error');
  });
}());
