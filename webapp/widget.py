"""`/widget.js`: a floating chat bubble that opens the compact chat (`/embed/`) in an iframe.

A host page adds `<script src="https://BOT/widget.js" defer></script>`, configured by data-*
attributes on that tag (README: "Embedding the chat in another site"). The script builds its
elements with DOM calls only (never innerHTML), so it cannot inject markup into the host page.
On a page whose origin is not in BOT_ALLOWED_ORIGINS (the frame would be refused) it shows a
message and a link to the chat instead of a broken frame.
"""

from __future__ import annotations

import functools
import json
import tomllib

from bot.prompts import PROMPTS_DIR

_WIDGET_JS = r"""(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__doctorAnswersWidget) return;
  window.__doctorAnswersWidget = true;
  var ALLOWED = __ALLOWED__;  // BOT_ALLOWED_ORIGINS, filled in by the server
  var TEXTS = __TEXTS__;      // prompts/widget.toml
  var SVG = 'http://www.w3.org/2000/svg';
  var bot = new URL('.', script.src);
  function attr(name) {
    var v = script.getAttribute('data-' + name);
    return v === null ? null : v.trim();
  }
  var lang = (attr('lang') || 'en').toLowerCase().split('-')[0];
  var T = TEXTS[lang] || TEXTS.en;
  function colour(v) {
    return v && window.CSS && CSS.supports('color', v) ? v : null;
  }
  function px(v, low, high, fallback) {
    var n = parseInt(v, 10);
    return isNaN(n) ? fallback : Math.max(low, Math.min(high, n));
  }
  var title = attr('title') || attr('label') || T.title;
  var greeting = attr('greeting') || T.greeting;
  var accent = colour(attr('accent')) || '#1d4ed8';
  var side = attr('position') === 'left' ? 'left' : 'right';
  var width = px(attr('width'), 280, 800, 420);
  var height = px(attr('height'), 320, 1000, 640);
  var opening = attr('open');  // data-open, data-open="true"
  var openOnLoad = opening !== null && ['', 'true', '1', 'yes'].indexOf(opening.toLowerCase()) >= 0;
  var allowed = location.origin === bot.origin || ALLOWED.indexOf(location.origin) >= 0;

  // Black or white on the accent, whichever reads better (WCAG relative luminance).
  function ink(bg) {
    var probe = document.createElement('span');
    probe.style.color = bg; probe.style.display = 'none';
    document.body.appendChild(probe);
    var rgb = getComputedStyle(probe).color.match(/[\d.]+/g).slice(0, 3).map(Number);
    probe.remove();
    var lum = rgb.map(function (c) {
      c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var L = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
    return (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? '#111111' : '#ffffff';
  }
  function icon(paths) {
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24'); svg.setAttribute('width', '28');
    svg.setAttribute('height', '28'); svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    paths.forEach(function (d) {
      var p = document.createElementNS(SVG, 'path');
      p.setAttribute('d', d); p.setAttribute('fill', 'currentColor');
      svg.appendChild(p);
    });
    return svg;
  }
  var CHAT = icon(['M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 '
    + '2-2zm3 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 '
    + '0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z']);
  var CLOSE = icon(['M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7l-1.4-1.4L9.2 12 2.9 5.7l'
    + '1.4-1.4 6.3 6.3 6.3-6.3z']);

  var button = document.createElement('button');
  button.type = 'button';
  button.id = 'doctor-answers-bubble';
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', 'doctor-answers-frame');
  var b = button.style;
  b.position = 'fixed'; b[side] = '16px'; b.bottom = '16px'; b.zIndex = '2147483000';
  b.width = '56px'; b.height = '56px'; b.borderRadius = '50%'; b.border = 'none';
  b.display = 'flex'; b.alignItems = 'center'; b.justifyContent = 'center'; b.padding = '0';
  b.background = accent; b.cursor = 'pointer';
  b.boxShadow = '0 4px 14px rgba(0,0,0,.3)';

  function place(el) {
    var s = el.style;
    s.position = 'fixed'; s[side] = '16px'; s.bottom = '84px'; s.zIndex = '2147483000';
    s.width = 'min(' + width + 'px, calc(100vw - 32px))';
    s.border = '1px solid #cbd5e1'; s.borderRadius = '12px'; s.background = '#fff';
    s.boxShadow = '0 8px 28px rgba(0,0,0,.25)'; s.boxSizing = 'border-box';
  }
  var panel = null;
  function build() {
    if (allowed) {
      var query = new URLSearchParams({title: title, greeting: greeting, accent: accent, lang: lang});
      panel = document.createElement('iframe');
      panel.title = title;
      panel.src = new URL('embed/?' + query.toString(), bot).href;  // loaded on first open
      panel.setAttribute('allow', 'clipboard-write');
      place(panel);
      panel.style.height = 'min(' + height + 'px, calc(100vh - 110px))';
    } else {
      // The chat would refuse to be framed here (Content-Security-Policy frame-ancestors).
      console.warn('doctor-answers widget: ' + location.origin + ' is not in BOT_ALLOWED_ORIGINS');
      panel = document.createElement('div');
      panel.setAttribute('role', 'region');
      panel.setAttribute('aria-label', title);
      panel.tabIndex = -1;
      place(panel);
      var s = panel.style;
      s.padding = '16px'; s.color = '#111827'; s.font = '15px/1.5 system-ui, sans-serif';
      var p = document.createElement('p');
      p.className = 'doctor-answers-blocked';
      p.style.margin = '0 0 12px';
      p.textContent = T.blocked.replace('{origin}', location.origin);
      var a = document.createElement('a');
      a.href = bot.href; a.target = '_blank'; a.rel = 'noopener';
      a.textContent = T.open_page; a.style.color = '#1d4ed8';
      panel.appendChild(p); panel.appendChild(a);
    }
    panel.id = 'doctor-answers-frame';
    document.body.appendChild(panel);
  }
  function show(open) {
    if (open && !panel) build();
    if (panel) panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    button.setAttribute('aria-label', open ? T.close + ': ' + title : title);
    button.title = open ? T.close : title;
    button.replaceChildren(open ? CLOSE : CHAT);
    button.style.color = ink(accent);
  }
  function isOpen() { return !!panel && !panel.hidden; }
  button.addEventListener('click', function () { show(!isOpen()); });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && isOpen()) { show(false); button.focus(); }
  });
  // Escape pressed inside the chat: the framed page tells us (it cannot close itself).
  window.addEventListener('message', function (ev) {
    if (ev.origin !== bot.origin || !panel || ev.source !== panel.contentWindow) return;
    if (ev.data && ev.data.type === 'doctor-answers:close' && isOpen()) {
      show(false); button.focus();
    }
  });
  function mount() {
    document.body.appendChild(button);
    show(false);
    if (openOnLoad) show(true);
  }
  if (document.body) { mount(); } else { document.addEventListener('DOMContentLoaded', mount); }
})();
"""


@functools.lru_cache(maxsize=1)
def widget_texts() -> dict[str, dict[str, str]]:
    """The bubble's fixed texts by language, from prompts/widget.toml."""
    with (PROMPTS_DIR / "widget.toml").open("rb") as file:
        return tomllib.load(file)


def widget_js(allowed_origins: tuple[str, ...]) -> str:
    """The widget script, knowing which host origins may frame the chat."""

    def literal(value: object) -> str:  # JSON, with "</" broken so it cannot end a <script>
        return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")

    return _WIDGET_JS.replace("__ALLOWED__", literal(list(allowed_origins))).replace(
        "__TEXTS__", literal(widget_texts())
    )
