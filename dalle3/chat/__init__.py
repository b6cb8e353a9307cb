"""Conversations with an image: turns through the Responses API's ``image_generation`` tool.

``POST /responses`` with a mainline model and ``tools=[{"type": "image_generation", ...}]``;
each turn continues from an earlier one by ``previous_response_id``, so any earlier turn
can be branched from. The pieces: :mod:`.models` (which mainline model, at what price),
:mod:`.request` (the body), :mod:`.answer` and :mod:`.stream` (reading what comes back),
:mod:`.client` (the HTTP call), :mod:`.costs` (before and after), :mod:`.store`
(conversations on disk) and :mod:`.turn` (one turn end to end). Nothing here imports gradio.
"""
