"""The chat page's look: one stylesheet and the theme (local fonts only, nothing from a CDN)."""

from __future__ import annotations

import gradio as gr

# Colours are set explicitly on every reply so text stays readable in Gradio's dark mode too.
CSS = """
.gradio-container { max-width: 860px !important; margin: 0 auto !important; }
/* Gradio scopes rules inside @media to its content, so the page margin shrinks by formula. */
.main.app { padding-left: clamp(8px, 4vw - 8px, 32px) !important;
  padding-right: clamp(8px, 4vw - 8px, 32px) !important; }
.app-header h1 { font-size: 1.6rem; margin: 0 0 .25rem; color: var(--body-text-color); }
.app-header p { margin: 0; color: #4b5563; }
.plain-html .html-container { padding: 0 !important; }
.banner { background: #fff7e0; color: #4a3200; border-left: 5px solid #b45309;
  padding: .6rem .8rem; border-radius: 6px; font-size: .95rem; line-height: 1.4; }
.transcript { display: flex; flex-direction: column; gap: .75rem; padding: .25rem; }
.transcript .empty { color: #4b5563; margin: .5rem 0; }
.msg { border-radius: 12px; padding: .7rem .9rem; line-height: 1.5; color: #111827;
  overflow-wrap: anywhere; }
.msg p { margin: 0 0 .5rem; }
.msg.user { background: #e0ecff; align-self: flex-end; max-width: 85%; }
.msg.user p:last-child { margin-bottom: 0; }
.msg.bot { background: #ffffff; border: 1px solid #cbd5e1; align-self: stretch; }
.msg.pending .waiting { color: #4b5563; font-style: italic; }
.badge { display: inline-block; font-weight: 700; font-size: .85rem; padding: .15rem .55rem;
  border-radius: 999px; margin: 0 0 .5rem !important; }
.kind-abstain { background: #f3f4f6 !important; border: 1px dashed #6b7280 !important; }
.kind-abstain .badge { background: #4b5563; color: #fff; }
.kind-partial { background: #f8fafc !important; border: 1px dashed #475569 !important; }
.kind-partial .badge { background: #334155; color: #fff; }
.kind-emergency { background: #fef2f2 !important; border: 3px solid #b91c1c !important; }
.kind-emergency .badge { background: #b91c1c; color: #fff; font-size: 1rem; }
.kind-crisis { background: #faf5ff !important; border: 3px solid #6b21a8 !important; }
.kind-crisis .badge { background: #6b21a8; color: #fff; font-size: 1rem; }
.urgent-block { background: #fffbeb; border: 3px solid #b45309; border-radius: 8px; padding: 0.5rem 0.75rem; margin-bottom: 0.75rem; }
.urgent-block .badge { background: #b45309; color: #fff; font-size: 1rem; }
.kind-referral { border: 2px solid #1d4ed8 !important; }
.kind-referral .badge { background: #1d4ed8; color: #fff; }
.kind-rejected, .kind-unavailable, .kind-error { background: #fffbeb !important;
  border: 1px solid #b45309 !important; }
.kind-rejected .badge, .kind-unavailable .badge, .kind-error .badge { background: #92400e;
  color: #fff; }
.notice { font-size: .9rem; color: #374151; font-style: italic; }
a.cite { color: #1d4ed8; font-weight: 700; text-decoration: none; padding: 0 .1rem;
  border-radius: 4px; white-space: nowrap; }
a.cite:hover { text-decoration: underline; background: #dbeafe; }
.sources { margin-top: .5rem; }
.sources h2 { font-size: .95rem; margin: .25rem 0; color: #111827; }
details.source { border: 1px solid #cbd5e1; border-radius: 8px; margin: .35rem 0;
  background: #f8fafc; }
details.source summary { cursor: pointer; padding: .45rem .6rem; font-weight: 600;
  color: #111827; min-height: 1.5rem; }
details.source[open] { background: #f1f5f9; border-color: #1d4ed8; }
.src-num { color: #1d4ed8; }
.src-body { padding: 0 .75rem .6rem; font-size: .93rem; }
.src-facts { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem;
  margin: .25rem 0 .5rem; }
.src-facts dt { font-weight: 600; color: #374151; }
.src-facts dd { margin: 0; }
.src-label { font-weight: 600; color: #374151; }
.src-answer { white-space: pre-line; margin: .25rem 0; padding: .4rem .7rem;
  border-left: 4px solid #94a3b8; background: #fff; max-height: 18rem; overflow: auto; }
.src-answer mark { background: #fde68a; color: #111827; padding: 0 .1rem; }
.src-link a { color: #1d4ed8; }
.disclaimer { font-size: .85rem; color: #4b5563; border-top: 1px solid #e5e7eb;
  padding-top: .45rem; margin-top: .5rem !important; }
.fb { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem; margin-top: .35rem; }
.fb-q { font-size: .88rem; color: #4b5563; }
.fb-btn, .fb-send { min-width: 44px; min-height: 40px; border: 1px solid #94a3b8;
  border-radius: 8px; background: #fff; cursor: pointer; font-size: .92rem; color: #111827;
  display: inline-flex; align-items: center; gap: .35rem; padding: 0 .7rem; }
.fb-btn:hover, .fb-send:hover { background: #f1f5f9; }
.fb-reasons { flex-basis: 100%; }
.fb-choices { border: 1px solid #cbd5e1; border-radius: 8px; padding: .4rem .6rem;
  display: flex; flex-wrap: wrap; align-items: center; gap: .4rem; margin: .2rem 0 .4rem; }
.fb-legend { font-size: .88rem; color: #374151; flex-basis: 100%; }
.fb-reason { min-height: 36px; border: 1px solid #64748b; border-radius: 999px; background: #fff;
  color: #111827; padding: 0 .8rem; cursor: pointer; font-size: .9rem; }
.fb-reason:hover { background: #f1f5f9; }
/* A pressed toggle stays visibly chosen (filled, bold), also after the feedback is saved. */
.fb-btn[aria-pressed="true"], .fb-reason[aria-pressed="true"] { background: #1e40af;
  border-color: #1e40af; color: #fff; font-weight: 700; }
.fb-btn:disabled, .fb-reason:disabled { cursor: default; }
.reply-actions { display: flex; align-items: center; gap: .5rem; margin-top: .35rem; }
.copy-btn, .edit-btn { min-height: 36px; border: 1px solid #94a3b8; border-radius: 8px;
  background: #fff; color: #111827; cursor: pointer; font-size: .88rem; padding: 0 .6rem;
  display: inline-flex; align-items: center; gap: .3rem; }
.copy-btn:hover, .edit-btn:hover { background: #f1f5f9; }
.copy-done { font-size: .85rem; color: #166534; }
.msg.user .edit-btn { margin-top: .4rem; background: #f8fbff; }
.fb-send { font-size: .95rem; padding: 0 .8rem; }
.follow-ups ul { list-style: none; padding: 0; margin: .35rem 0 0; display: flex;
                 flex-wrap: wrap; gap: .35rem; }
.fu-title { font-size: .88rem; color: #374151; margin: .5rem 0 0 !important; }
.follow-up { text-align: left; min-height: 36px; padding: .3rem .7rem; border-radius: 8px;
             border: 1px solid #94a3b8; background: #fff; color: #1e3a8a; font-size: .9rem; }
.follow-up:hover { background: #eff6ff; }
.fb-done { font-size: .88rem; color: #166534; margin: .3rem 0 0 !important; }
.transcript a:focus-visible, .transcript button:focus-visible, .transcript summary:focus-visible,
.transcript input:focus-visible { outline: 3px solid #2563eb; outline-offset: 2px; }
.examples-row button { font-size: .9rem !important; }
.privacy-note { font-size: .8rem; color: #4b5563; }
/* Dark mode: the page's own grey texts sit on Gradio's dark background, not on a reply. */
/* (one selector a rule: Gradio scopes only the first of a list that starts with .dark) */
.dark .app-header p { color: #cbd5e1; }
.dark .privacy-note { color: #cbd5e1; }
.dark .transcript .empty { color: #cbd5e1; }
footer, footer button, footer a, footer .divider { color: #4b5563 !important; }
.dark footer { color: #cbd5e1 !important; }
.dark footer button { color: #cbd5e1 !important; }
.dark footer .divider { color: #cbd5e1 !important; }
.embed-mode { gap: 8px !important; }
.embed-mode .app-header h1 { font-size: 1.05rem; margin: 0; }
.embed-mode .banner { font-size: .78rem; line-height: 1.3; padding: .3rem .5rem;
  border-left-width: 4px; }
.embed-mode .msg { padding: .55rem .7rem; font-size: .93rem; }
.embed-mode .controls button { min-height: 34px; padding: 0 .5rem; }
body:has(.embed-mode) .main.app { padding: 6px 8px !important; }
body:has(.embed-mode) footer { display: none !important; }
@media (max-width: 480px) {
  .app-header h1 { font-size: 1.3rem; }
  .app-header p { font-size: .9rem; }
  .banner { font-size: .85rem; padding: .45rem .6rem; }
  .msg { padding: .6rem .7rem; }
  .msg.user { max-width: 92%; }
  .src-facts { grid-template-columns: 1fr; }
  .src-facts dt { margin-top: .2rem; }
}
"""


def theme() -> gr.themes.Base:
    """Gradio's default theme in blue, with the device's own fonts (nothing to download)."""
    system = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial"]
    # Gradio's defaults put white on blue-500 (3.7:1) and grey placeholders and footer links
    # at 1.9:1; these keep every text at 4.5:1 or more, light and dark (tests/test_browser_chat).
    return gr.themes.Default(
        primary_hue="blue",
        secondary_hue="slate",
        font=[*system, "sans-serif"],
        font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"],
    ).set(
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover_dark="*primary_800",
        button_primary_text_color="white",
        button_primary_text_color_dark="white",
        input_placeholder_color="*neutral_500",
        input_placeholder_color_dark="*neutral_400",
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_400",
    )
