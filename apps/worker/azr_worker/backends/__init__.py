"""Backends behind one interface (see base.Policy): `tiny` (CPU, plain PyTorch), `hf`, `vllm`."""
from .base import BackendUnavailable, Policy  # noqa: F401

BACKENDS = ("tiny", "hf", "vllm")


def create_policy(backend, spec, device, allow_remote_code):
    """Builds the policy for a validated `load` request. Optional dependencies are imported here,
    so a missing one is reported as BackendUnavailable naming what to install."""
    if backend == "tiny":
        from .tiny import TinyPolicy
        return TinyPolicy.create(spec, device)
    if backend == "hf":
        from .hf import HFPolicy
        return HFPolicy.create(spec, device, allow_remote_code)
    if backend == "vllm":
        from .vllm_backend import VLLMPolicy
        return VLLMPolicy.create(spec, device, allow_remote_code)
    raise ValueError(f"unknown backend {backend}")
