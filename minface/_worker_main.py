"""What worker processes import in place of the caller's main script (see ``minface.engine.executors``).

Empty on purpose: minface's jobs need nothing from the main script, and a
script without an ``if __name__ == "__main__":`` guard must not run again in
every worker.
"""
