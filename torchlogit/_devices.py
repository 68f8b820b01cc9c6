"""Turning the ``device`` and ``dtype`` parameters into torch objects, with clear errors."""

import contextlib
import os
import re

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64}

# "cpu:0" and "mps:0" are torch's spellings of the one CPU and the one MPS device (an MPS tensor's .device says
# mps:0): accepted, and resolved to "cpu" / "mps".
# The CUDA index in ASCII digits without a leading zero, as torch parses it ("cuda:01", a non-ASCII digit or an
# index past int64 passed a \d+ pattern and failed in torch.device with a RuntimeError).
_DEVICE_PATTERN = re.compile(r"^(cpu(:0)?|mps(:0)?|auto|cuda(:(0|[1-9][0-9]{0,8}))?)$", re.ASCII)


def as_float64(tensor):
    """``tensor`` in float64, detached, where float64 exists: on its device, on the host for MPS (no float64 there)."""
    tensor = tensor.detach()
    return (tensor.cpu() if tensor.device.type == "mps" else tensor).to(torch.float64)


# Training needs float64 on the training device (objective sums, L-BFGS's scalar products, Newton's Hessian, the
# cross-validated path's curvature), which MPS does not have: every fit there failed with torch's own TypeError.
MPS_TRAINING = (
    "Training on device='mps' is not supported: torchlogit's solvers accumulate in float64, which MPS does not "
    "have. Fit with device='cpu' (device='auto' trains on the CPU where only MPS exists), then "
    "set_params(device='mps') to predict on the Apple GPU."
)


@contextlib.contextmanager
def without_autocast():
    """The block without the caller's ``torch.autocast`` (on the CPU, and on CUDA where it exists).

    A fit called inside a mixed-precision script's ``with torch.autocast("cpu", dtype=torch.bfloat16):`` (a linear
    probe on embeddings) ran its products in bfloat16: linear fits failed with torch's own RuntimeError (a
    bfloat16 gradient assigned to a float32 parameter) and hidden layers trained silently in bfloat16 (n_iter_ 12
    against 20, probabilities 0.2 apart). The estimators compute in their ``dtype``, as they do under the caller's
    ``inference_mode``.
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.autocast("cpu", enabled=False))
        if torch.cuda.is_available():
            stack.enter_context(torch.autocast("cuda", enabled=False))
        yield


def refuse_mps_training(device):
    """Raise a ValueError (``MPS_TRAINING``) when ``device`` (a torch.device or a device name) is MPS."""
    if str(device).startswith("mps"):
        raise ValueError(MPS_TRAINING)


def available_devices():
    """The devices this machine can train on, as strings (``['cpu', 'cuda:0', ...]``)."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def check_device_name(device, owner="estimator"):
    """``device`` as a string if it names a device torchlogit knows (whether or not this machine has it)."""
    spec = str(device) if isinstance(device, torch.device) else device
    if not isinstance(spec, str) or not _DEVICE_PATTERN.fullmatch(spec):
        raise ValueError(
            f"The 'device' parameter of {owner} must be 'cpu', 'cuda', 'cuda:N', 'mps' "
            f"or 'auto'. Got {device!r} instead."
        )
    return spec


def resolve_device(device, owner="estimator"):
    """Return the ``torch.device`` that ``device`` names, or raise a ValueError saying what exists.

    ``"auto"`` picks CUDA, then the CPU (not MPS, where training is not supported: ``MPS_TRAINING``). ``"cuda"``
    (and ``"auto"`` where CUDA exists) is torch's current CUDA device, ``cuda:N`` the N-th.
    """
    spec = check_device_name(device, owner)
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")
    resolved = torch.device(spec)
    if resolved.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        # "cuda" without an index is torch's current device (torch.cuda.set_device), as torch reads it and as "auto"
        # picks: it meant cuda:0 here, so after set_device(1) "auto" trained on cuda:1 and "cuda" on cuda:0.
        index = resolved.index if resolved.index is not None else (torch.cuda.current_device() if count else 0)
        if index >= count:
            raise ValueError(
                f"device={spec!r} was requested but "
                + (f"this machine has {count} CUDA device(s)" if count else "CUDA is not available on this machine")
                + f". Available devices: {available_devices()}."
            )
        return torch.device("cuda", index)
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={spec!r} was requested but MPS is not available on this machine. "
            f"Available devices: {available_devices()}."
        )
    return torch.device(resolved.type) if resolved.type in ("cpu", "mps") else resolved


def refuse_unreadable(X):
    """A TypeError for a tensor on torch's "meta" device (shapes without values), which no method can read: torch
    said "Tensor.item() cannot be called on meta tensors" or "Cannot copy out of meta tensor" from inside; a
    ValueError for a nested (ragged) tensor, as NumPy refuses ragged rows: torch said "Internal error:
    NestedTensorImpl doesn't support sizes" (or NotImplementedError: aten.dense_dim)."""
    if X.is_nested:
        raise ValueError(
            "Nested (ragged) tensors are not supported: rows of different lengths have no 2-D shape. Pad them to "
            "one length (torch.nested.to_padded_tensor) or pass a regular tensor or array."
        )
    if X.device.type == "meta":
        raise TypeError(
            f"A tensor on the 'meta' device (shape {tuple(X.shape)}) holds no values to fit or predict from; pass a "
            "tensor with data (on the CPU or a GPU), or a NumPy array."
        )


def available_memory(device):
    """Bytes a fit or ``summary`` may count on: free memory on a CUDA device, available system memory otherwise
    (None where unknown)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None  # unknown (e.g. Windows without /proc): no refusal


def format_bytes(n):
    """``n`` bytes in decimal units, three significant digits (\"1.6 GB\")."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.3g} {unit}" if unit != "bytes" else f"{int(n)} bytes"
        n /= 1000
