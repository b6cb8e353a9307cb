"""Jobs: many requests at once, made from lists, templates and compare axes, run now or as OpenAI Batches.

:mod:`~dalle3.jobs.spec` makes a job, :mod:`~dalle3.jobs.run` runs it now,
:mod:`~dalle3.jobs.batch` sends it as a Batch and follows it, :mod:`~dalle3.jobs.store`
keeps it in the outputs folder, :mod:`~dalle3.jobs.sheet` draws a compare job's contact
sheet, :mod:`~dalle3.jobs.service` is what the page and the API share, and
:mod:`~dalle3.jobs.cli` is ``python -m dalle3 batch``. Nothing here imports Gradio.
"""
