"""Work that outlives its request (an import of 50,000 rows): run in a worker thread.

The page that started it polls the job's row in the database for progress, so
the same code serves the browser, and the CLI runs the job in the foreground.
"""

from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gongjian-job")


def run(fn, *args) -> None:
    """Call ``fn(*args)`` inside an app context: in a worker thread, or inline when configured."""
    app: Flask = current_app._get_current_object()
    if not app.config.get("JOBS_IN_BACKGROUND", True):
        fn(*args)
        return

    def job():
        with app.app_context():
            try:
                fn(*args)
            except Exception:  # a job's failure must be logged, not lost with the thread
                app.logger.exception("background job %s failed", getattr(fn, "__name__", fn))

    _executor.submit(job)
