"""FSDP (torch >= 2.6, `fully_shard`): parameters, gradients and optimizer state sharded across
the ranks of one worker, for models too large to replicate per GPU.

Each rank also keeps a full, frozen copy of the weights for generation (the way vLLM keeps its own
copy in the colocated setup): generation is sharded by rows and needs no collectives, so ranks
may finish at different times. The copy is refreshed from the shards before the next generation
after any update. Checked on CPU (gloo) with torch 2.13 against a one-process worker; on GPUs
(NCCL) it has not been run."""
import copy

import torch


def available():
    try:
        from torch.distributed.fsdp import fully_shard  # noqa: F401
        return True
    except Exception:  # ImportError; on torch 1.13 + Python 3.11 the module fails with a ValueError
        return False


def shard(policy, world):
    """Shards policy.model in place (each transformer block, then the root)."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    mesh = init_device_mesh(policy.device.type, (world,))
    if policy.generate_override is None:  # vLLM generates from its own copy
        policy.gen_model = copy.deepcopy(policy.model).eval().requires_grad_(False)
    for unit in policy.fsdp_units():
        fully_shard(unit, mesh=mesh)
    fully_shard(policy.model, mesh=mesh)
    policy.gen_stale = False


def _options(**kw):
    from torch.distributed.checkpoint.state_dict import StateDictOptions
    return StateDictOptions(full_state_dict=True, **kw)


def full_model_state(model, cpu_offload=False):
    """The whole model's state dict (a collective: every rank calls it). With cpu_offload only
    rank 0 receives it."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict
    return get_model_state_dict(model, options=_options(cpu_offload=cpu_offload))


def full_optimizer_state(model, optimizer):
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict
    return get_optimizer_state_dict(model, optimizer, options=_options(cpu_offload=True))


def load_full_state(model, optimizer, model_state, optimizer_state):
    from torch.distributed.checkpoint.state_dict import set_model_state_dict, set_optimizer_state_dict
    set_model_state_dict(model, model_state, options=_options())
    if optimizer_state is not None:
        set_optimizer_state_dict(model, optimizer, optim_state_dict=optimizer_state, options=_options())


def refresh_generation_copy(policy):
    if policy.gen_model is not None and policy.gen_stale:
        with torch.no_grad():
            policy.gen_model.load_state_dict(full_model_state(policy.model))
        policy.gen_stale = False
