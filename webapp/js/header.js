// The header (gr.HTML js_on_load): the widget's options from this page's URL
// (?title=&greeting=&accent=&lang=) applied as text and colours only, and Escape inside a framed
// chat asks the host page to close it (a cross-origin frame cannot close itself; the widget
// checks where the message came from).
const params = new URLSearchParams(location.search);
const title = (params.get('title') || '').slice(0, 120);
if (title) {
  element.querySelector('h1').textContent = title;
  document.title = title;
}
const lang = params.get('lang') || '';
if (/^[a-z]{2}$/.test(lang)) document.documentElement.lang = lang;
const accent = params.get('accent') || '';
if (accent && CSS.supports('color', accent)) {
  const probe = document.createElement('span');
  probe.style.color = accent;
  document.body.appendChild(probe);
  const rgb = getComputedStyle(probe).color.match(/[\d.]+/g).slice(0, 3).map(Number);
  probe.remove();
  const lum = rgb.map((c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  });
  const L = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2];
  const ink = (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? '#111111' : '#ffffff';
  for (const node of [document.documentElement, document.body,
                      ...document.querySelectorAll('.gradio-container')]) {
    for (const name of ['--button-primary-background-fill',
                        '--button-primary-background-fill-hover',
                        '--button-primary-border-color', '--button-primary-border-color-hover']) {
      node.style.setProperty(name, accent);
    }
    node.style.setProperty('--button-primary-text-color', ink);
    node.style.setProperty('--button-primary-text-color-hover', ink);
  }
}
if (window.parent !== window) {
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') window.parent.postMessage({type: 'doctor-answers:close'}, '*');
  });
}
