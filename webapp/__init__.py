"""The web layer: Gradio chat page, embeddable widget and HTTP API around one `Bot`.

Only this package imports gradio; bot/ and vectorstore/ stay UI-free.
"""
