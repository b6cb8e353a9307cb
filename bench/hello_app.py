"""A bare Gradio Blocks hello world: the start-up baseline for ``python app.py``."""

import gradio as gr

with gr.Blocks() as demo:
    name = gr.Textbox(label="Name")
    greeting = gr.Textbox(label="Greeting")
    gr.Button("Greet").click(lambda n: f"Hello {n}!", name, greeting)

if __name__ == "__main__":
    demo.launch()
