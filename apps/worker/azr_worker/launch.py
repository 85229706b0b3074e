"""torchrun, made to work on Debian's torch 1.13 under Python 3.11:
    python3 -m azr_worker.launch --standalone --nproc_per_node=2 -m azr_worker --url ...

torch < 2.0 parses `--redirects 0` / `--tee 0` by iterating an IntFlag, which on Python 3.11 skips
the zero member, so every launch fails with "'NoneType' object has no attribute 'get'". This maps
the missing value back to Std.NONE and then runs torch.distributed.run unchanged."""
from torch.distributed.elastic.multiprocessing import api

_from_str = api.Std.from_str


def _fixed_from_str(vm):
    value = _from_str(vm)
    if value is None:
        return api.Std.NONE
    if isinstance(value, dict):
        return {k: api.Std.NONE if v is None else v for k, v in value.items()}
    return value


api.Std.from_str = staticmethod(_fixed_from_str)

if __name__ == "__main__":
    from torch.distributed.run import main
    main()
