"""Running work: standalone (in-process) pipelines now; DAGs, job state and scheduling later."""

__all__: list[str] = []
