"""The course machinery: what runs around the chapters, never inside their lessons.

- :mod:`~aelib.course.syllabus`: the exam's questions, the notebook list, the README's map (``syllabus.json``);
- :mod:`~aelib.course.selfcheck`: the self-check questions at the end of each chapter (``selfchecks.json``);
- :mod:`~aelib.course.revision`: the generated answer, corrections and self-check cells, and notebook 15's mock paper;
- :mod:`~aelib.course.site`: the offline reading copy (``python -m aelib.course.site``);
- :mod:`~aelib.course.bench`: the benchmark behind BENCHMARKS.md (``python -m aelib.course.bench``);
- :mod:`~aelib.course.browser`: the notebooks presented in headless Chromium (tests and latency).

The machine-learning helpers a chapter calls (data, models, training, vae, metrics, evaluate, plots, widgets)
live one level up, in :mod:`aelib`; nothing there imports from here.
"""
