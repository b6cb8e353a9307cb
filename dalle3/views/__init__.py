"""What the page and the other doors show, computed without Gradio: the studio's controls per
model, status text, a session's history, copy-as-code, the API's own docs, and live previews."""
