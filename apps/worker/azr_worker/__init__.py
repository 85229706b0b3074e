"""AZR worker: a thin numerics engine (generate, train) driven by the control plane over WebSocket."""
__version__ = "0.1.0"
