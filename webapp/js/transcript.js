// The transcript (gr.HTML js_on_load): markers open their source card, rating, copy and edit
// buttons report to Python, a new question or reply is scrolled to its start, and the widget's
// greeting replaces the welcome text.
function scroller() {
  for (let n = element.parentElement; n; n = n.parentElement) {
    if (/(auto|scroll)/.test(getComputedStyle(n).overflowY)) return n;
  }
  return null;
}
function reveal(node) {
  // Scroll only the conversation box, never the host page around an embedded chat.
  const box = scroller();
  if (box) box.scrollTop += node.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
}
const greeting = (new URLSearchParams(location.search).get('greeting') || '').slice(0, 500);
function greet() {
  const empty = element.querySelector('.empty');
  if (greeting && empty) empty.textContent = greeting;
}
greet();
let shown = null;
watch('value', () => {
  greet();
  const bots = element.querySelectorAll('article.msg.bot');
  const last = bots[bots.length - 1];
  const key = last ? (last.dataset.reply || 'pending' + bots.length) : null;
  if (key === shown) return;
  shown = key;
  const asked = element.querySelectorAll('article.msg.user');
  if (asked.length) reveal(asked[asked.length - 1]);
});
element.addEventListener('click', (ev) => {
  const cite = ev.target.closest('a.cite');
  if (cite) {
    ev.preventDefault();
    const card = element.querySelector('#' + CSS.escape(cite.dataset.src));
    if (card) {
      card.open = true;
      reveal(card);
      card.querySelector('summary').focus({preventScroll: true});
    }
    return;
  }
  const thumb = ev.target.closest('button.fb-btn');
  if (thumb) {
    const id = thumb.dataset.reply;
    if (thumb.dataset.fb === 'up') {
      thumb.setAttribute('aria-pressed', 'true');
      trigger('feedback', {reply_id: id, rating: 'up', reason: ''});
      return;
    }
    const box = element.querySelector('#fbr-' + CSS.escape(id));
    box.hidden = !box.hidden;
    thumb.setAttribute('aria-expanded', String(!box.hidden));
    thumb.setAttribute('aria-pressed', String(!box.hidden));
    if (!box.hidden) box.querySelector('button.fb-reason').focus();
    return;
  }
  const follow = ev.target.closest('button.follow-up');
  if (follow) {
    trigger('follow_up', {question: follow.dataset.q});
    return;
  }
  const reason = ev.target.closest('button.fb-reason');
  if (reason) {
    // One reason at most: pressing one releases the others; pressing it again releases it.
    const on = reason.getAttribute('aria-pressed') !== 'true';
    reason.parentElement.querySelectorAll('button.fb-reason')
      .forEach((b) => b.setAttribute('aria-pressed', 'false'));
    reason.setAttribute('aria-pressed', String(on));
    return;
  }
  const send = ev.target.closest('button.fb-send');
  if (send) {
    const picked = send.closest('.fb-reasons').querySelector('button.fb-reason[aria-pressed="true"]');
    trigger('feedback', {reply_id: send.dataset.reply, rating: 'down',
                         reason: picked ? picked.dataset.reason : ''});
    return;
  }
  const copy = ev.target.closest('button.copy-btn');
  if (copy) {
    const text = copy.parentElement.querySelector('pre.copy-text').textContent;
    const status = copy.parentElement.querySelector('.copy-done');
    const done = () => { status.textContent = 'Copied to the clipboard'; };
    const fallback = () => {  // no Clipboard API (an insecure page, an old browser)
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand('copy');
      area.remove();
      status.textContent = ok ? 'Copied to the clipboard' : 'Could not copy: select the text';
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
    return;
  }
  if (ev.target.closest('button.edit-btn')) {
    trigger('edit_last', {});
    const box = document.querySelector('#question textarea');
    if (box) box.focus();
  }
});
