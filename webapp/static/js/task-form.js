// Task form helpers: evidence uploads with progress, repeated values, and no double submits.
// Without JavaScript the form still works: files go with the form itself.
(function () {
  'use strict';
  document.documentElement.classList.add('js');
  var form = document.querySelector('form.task-form');
  if (!form) { return; }
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var pending = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function setBusy(delta) {
    pending += delta;
    form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.disabled = pending > 0; });
  }

  function showStored(box, item, body) {
    if (box.dataset.multiple !== 'true') {
      box.querySelectorAll('.evidence-item').forEach(function (old) { if (old !== item) { old.remove(); } });
    }
    item.className = 'list-group-item evidence-item';
    item.replaceChildren();
    var hidden = el('input');
    hidden.type = 'hidden';
    hidden.name = box.dataset.field;
    hidden.value = body.sha256;
    var row = el('div', 'd-flex justify-content-between align-items-start gap-2');
    var text = el('div', 'min-w-0');
    text.appendChild(el('div', 'fw-semibold text-break', body.filename + ' · ' + body.size_text));
    var hash = el('div', 'small text-body-secondary', 'SHA-256 ');
    hash.appendChild(el('code', 'sha256', body.sha256));
    text.appendChild(hash);
    var remove = el('button', 'btn btn-sm btn-outline-secondary remove-evidence flex-shrink-0', form.dataset.msgRemove);
    remove.type = 'button';
    row.appendChild(text);
    row.appendChild(remove);
    item.appendChild(hidden);
    item.appendChild(row);
  }

  function showFailed(item, message) {
    item.className = 'list-group-item list-group-item-danger upload-item';
    var progress = item.querySelector('.progress');
    if (progress) { progress.remove(); }
    item.appendChild(el('div', 'small', message));
  }

  function upload(box, file) {
    var list = box.querySelector('.evidence-list');
    var item = el('li', 'list-group-item upload-item');
    item.appendChild(el('div', 'fw-semibold text-break', file.name));
    list.appendChild(item);
    if (file.size > Number(box.dataset.maxBytes)) {
      showFailed(item, form.dataset.msgTooLarge);
      return;
    }
    var progress = el('div', 'progress mt-1');
    progress.setAttribute('role', 'progressbar');
    progress.setAttribute('aria-label', form.dataset.msgUploading + ' ' + file.name);
    progress.setAttribute('aria-valuemin', '0');
    progress.setAttribute('aria-valuemax', '100');
    var bar = el('div', 'progress-bar progress-bar-striped progress-bar-animated');
    bar.style.width = '0%';
    progress.appendChild(bar);
    item.appendChild(progress);

    var data = new FormData();
    data.append('field', box.dataset.field);
    data.append('file', file);
    var xhr = new XMLHttpRequest();
    xhr.open('POST', box.dataset.uploadUrl);
    xhr.setRequestHeader('X-CSRFToken', token);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', function (e) {
      if (!e.lengthComputable) { return; }
      var percent = Math.round(e.loaded * 100 / e.total);
      bar.style.width = percent + '%';
      progress.setAttribute('aria-valuenow', String(percent));
    });
    xhr.addEventListener('load', function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = {}; }
      if (xhr.status === 200 && body.sha256) { showStored(box, item, body); }
      else { showFailed(item, body.message || body.error || form.dataset.msgFailed); }
      setBusy(-1);
    });
    xhr.addEventListener('error', function () { showFailed(item, form.dataset.msgFailed); setBusy(-1); });
    setBusy(1);
    xhr.send(data);
  }

  form.querySelectorAll('.evidence-field').forEach(function (box) {
    var input = box.querySelector('input[type="file"]');
    function take() {
      var files = Array.prototype.slice.call(input.files);
      input.value = '';
      if (box.dataset.multiple !== 'true') { files = files.slice(0, 1); }
      files.forEach(function (file) { upload(box, file); });
    }
    input.addEventListener('change', take);
    // a file chosen while the page was still loading, before this script ran, is not lost
    if (input.files && input.files.length) { take(); }
    box.addEventListener('click', function (e) {
      if (e.target.classList.contains('remove-evidence')) { e.target.closest('li').remove(); }
    });
  });

  form.querySelectorAll('.multi-values').forEach(function (box) {
    box.querySelector('.add-value').addEventListener('click', function () {
      var inputs = box.querySelectorAll('input');
      var copy = inputs[inputs.length - 1].cloneNode();
      copy.value = '';
      copy.removeAttribute('id');
      box.insertBefore(copy, this);
      copy.focus();
    });
  });

  // One click, one submission: the buttons lock once the browser has taken the form's values.
  form.addEventListener('submit', function () {
    window.setTimeout(function () { setBusy(1); }, 0);
  });
  window.addEventListener('pageshow', function () { pending = 0; setBusy(0); });
}());
