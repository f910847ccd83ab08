"""`/widget.js`: a floating chat bubble that opens the compact chat (`/embed/`) in an iframe.

A host page adds `<script src="https://BOT/widget.js" defer></script>`. The script builds its
elements with DOM calls only (never innerHTML), so it cannot inject markup into the host page.
"""

from __future__ import annotations

WIDGET_JS = r"""(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__doctorAnswersWidget) return;
  window.__doctorAnswersWidget = true;
  // The chat lives next to this script: https://BOT/widget.js -> https://BOT/embed/
  var src = new URL('embed/', script.src).href;
  var label = script.getAttribute('data-label') || "Ask the doctors' answers";

  var button = document.createElement('button');
  button.type = 'button';
  button.id = 'doctor-answers-bubble';
  button.textContent = '\uD83D\uDCAC';
  button.setAttribute('aria-label', label);
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', 'doctor-answers-frame');
  button.title = label;
  var b = button.style;
  b.position = 'fixed'; b.right = '16px'; b.bottom = '16px'; b.zIndex = '2147483000';
  b.width = '56px'; b.height = '56px'; b.borderRadius = '50%'; b.border = 'none';
  b.background = '#1d4ed8'; b.color = '#fff'; b.fontSize = '26px'; b.cursor = 'pointer';
  b.boxShadow = '0 4px 14px rgba(0,0,0,.3)';

  var frame = null;
  function open() {
    if (!frame) {
      frame = document.createElement('iframe');
      frame.id = 'doctor-answers-frame';
      frame.title = label;
      frame.src = src;  // loaded on first open, so the host page stays fast
      frame.setAttribute('allow', 'clipboard-write');
      var f = frame.style;
      f.position = 'fixed'; f.right = '16px'; f.bottom = '84px'; f.zIndex = '2147483000';
      f.width = 'min(420px, calc(100vw - 32px))'; f.height = 'min(640px, calc(100vh - 110px))';
      f.border = '1px solid #cbd5e1'; f.borderRadius = '12px'; f.background = '#fff';
      f.boxShadow = '0 8px 28px rgba(0,0,0,.25)';
      document.body.appendChild(frame);
    }
    frame.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    button.textContent = '\u2715';
    button.setAttribute('aria-label', 'Close: ' + label);
  }
  function close() {
    if (frame) frame.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    button.textContent = '\uD83D\uDCAC';
    button.setAttribute('aria-label', label);
  }
  button.addEventListener('click', function () {
    if (frame && !frame.hidden) { close(); } else { open(); }
  });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && frame && !frame.hidden) { close(); button.focus(); }
  });
  function mount() { document.body.appendChild(button); }
  if (document.body) { mount(); } else { document.addEventListener('DOMContentLoaded', mount); }
})();
"""
