"""The fused float32 QT kernel on CPU: ``qt_kernel.c``, built for this machine, called through ctypes.

The C source needs only a C compiler (no Python or torch headers). ``pip
install`` builds it (``_qt_kernel*.so`` beside the source, with one clone of
the loop per x86-64 level; an optional extension, so an install without a
compiler still succeeds). Where that build is missing or older than the
source, the first use compiles it for this CPU (about 0.6 s of CPU; with OpenMP where the
compiler has it, see ``_OPTIONAL_FLAGS``) into the
cache directory (``$QTHYBRID_CACHE_DIR`` or ``~/.cache/qthybrid``), keyed by
the source, the compiler and the CPU, and later processes load it from there;
nothing is written anywhere else. Without either, or with ``QTHYBRID_FUSED_KERNEL=0``,
:func:`library` returns None and the activation keeps the torch path.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.machinery
import os
import platform
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
import warnings
from pathlib import Path

import torch

from ...physics.transmission import EPS_FREE   # above it T is held and dT/deps is 0, as there

SOURCE = Path(__file__).with_name("qt_kernel.c")
#: The extension module name the install builds (pyproject.toml, [[tool.setuptools.ext-modules]]).
PREBUILT_STEM = "_qt_kernel"
#: Must equal QT_KERNEL_ABI in the C source.
ABI = 2
_FLAGS = ("-O3", "-fno-trapping-math", "-fno-math-errno", "-fPIC", "-shared", "-pthread", "-pipe")
#: Tried in this order, the first the compiler accepts wins. -fopenmp links libgomp.so.1, which resolves
#: to the OpenMP runtime torch has already loaded (same soname), so the kernel runs on torch's own thread
#: team; without it the kernel starts its own threads, which run at about half speed right after a torch
#: operation while torch's threads still spin.
_OPTIONAL_FLAGS = (("-march=native", "-fopenmp"), ("-fopenmp",), ("-march=native",), ())
_COMPILE_TIMEOUT_S = 120


class KernelFallbackWarning(UserWarning):
    """The fused kernel could not be built or loaded: the slower torch path is used."""


def cache_dir() -> Path:
    """Where the compiled kernel is kept: $QTHYBRID_CACHE_DIR or ~/.cache/qthybrid."""
    return Path(os.environ.get("QTHYBRID_CACHE_DIR", Path.home() / ".cache" / "qthybrid"))


def _compiler() -> list[str] | None:
    command = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    words = shlex.split(command)
    if words and shutil.which(words[0]):
        return words
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return [name]
    return None


def _cpu_signature() -> str:
    """The CPU's model and feature flags: a library built with -march=native only runs where they match."""
    try:
        with open("/proc/cpuinfo") as handle:
            lines = [line for line in handle if line.startswith(("model name", "flags", "Features"))]
        return "".join(sorted(set(lines)))
    except OSError:
        return platform.processor()


def _prebuilt() -> Path | None:
    """The library built at install, if there is one at least as new as the source."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = SOURCE.with_name(PREBUILT_STEM + suffix)
        if path.exists() and path.stat().st_mtime >= SOURCE.stat().st_mtime:
            return path
    return None


def _library_path(compiler: list[str]) -> Path:
    binary = Path(shutil.which(compiler[0]) or compiler[0]).resolve()
    stat = binary.stat()
    material = "\n".join([SOURCE.read_text(), str(ABI), " ".join(compiler + list(_FLAGS)), repr(_OPTIONAL_FLAGS),
                          f"{binary}:{stat.st_size}:{stat.st_mtime_ns}", platform.machine(), _cpu_signature()])
    key = hashlib.sha256(material.encode()).hexdigest()[:20]
    return cache_dir() / "kernels" / f"qt_kernel-{key}.so"


def _compile(compiler: list[str], target: Path) -> None:
    """Compile into a temporary file beside ``target`` and move it into place (atomic for concurrent builds)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".build-", suffix=".so")
    os.close(handle)
    try:
        errors = ""
        for optional in _OPTIONAL_FLAGS:
            command = [*compiler, *_FLAGS, *optional, str(SOURCE), "-o", temporary, "-lm"]
            result = subprocess.run(command, capture_output=True, text=True, timeout=_COMPILE_TIMEOUT_S,
                                    env={**os.environ, "TMPDIR": str(target.parent)})
            if result.returncode == 0:
                os.replace(temporary, target)
                return
            errors = result.stderr.strip()
        raise OSError(f"{' '.join(compiler)} failed: {errors[-400:]}")
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _bind(library: ctypes.CDLL) -> ctypes.CDLL:
    pointer, size, real, count = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double, ctypes.c_int
    signatures = {
        "qt_transmission": [pointer, pointer, size, real, real, real, count],
        "qt_transmission_and_slope": [pointer, pointer, pointer, size, real, real, real, real, count],
        "qt_input_gradient": [pointer, pointer, pointer, size, real, real, real, real, count],
    }
    for name, argtypes in signatures.items():
        function = getattr(library, name)
        function.argtypes, function.restype = argtypes, None
    library.qt_kernel_abi.restype = ctypes.c_int
    if library.qt_kernel_abi() != ABI:
        raise OSError(f"{library._name} has ABI {library.qt_kernel_abi()}, expected {ABI}")
    return library


@functools.lru_cache(maxsize=None)
def library() -> ctypes.CDLL | None:
    """The loaded kernel: the install's build, else the cached build (made first if missing), else None
    with one warning."""
    if os.environ.get("QTHYBRID_FUSED_KERNEL", "1") == "0":
        return None
    prebuilt = _prebuilt()
    if prebuilt is not None:
        try:
            return _bind(ctypes.CDLL(str(prebuilt)))
        except OSError:   # unloadable or of another ABI: build from the source instead
            pass
    compiler = _compiler()
    if compiler is None:
        warnings.warn("qthybrid: no C compiler found (set CC), so float32 QTActivation uses the slower "
                      "torch path", KernelFallbackWarning, stacklevel=2)
        return None
    try:
        path = _library_path(compiler)
        if path.exists():
            try:
                return _bind(ctypes.CDLL(str(path)))
            except OSError:   # a damaged cache entry is rebuilt
                pass
        _compile(compiler, path)
        return _bind(ctypes.CDLL(str(path)))
    except (OSError, subprocess.SubprocessError) as exc:
        warnings.warn(f"qthybrid: the fused QT kernel could not be built or loaded ({exc}), so float32 "
                      f"QTActivation uses the slower torch path", KernelFallbackWarning, stacklevel=2)
        return None


def transmission(z: torch.Tensor, ampl: float, V0, g) -> torch.Tensor:
    """T(ampl z / V0) for a contiguous float32 CPU tensor ``z``; ``V0`` (eV) and ``g`` numbers or 0-d tensors."""
    T = torch.empty_like(z)
    library().qt_transmission(z.data_ptr(), T.data_ptr(), z.numel(), ampl / float(V0), float(g), EPS_FREE,
                              torch.get_num_threads())
    return T


def transmission_and_slope(z: torch.Tensor, ampl: float, V0, g, chain_numerator: float):
    """T and (chain_numerator / V0) dT/deps; chain_numerator = ampl gives dT/dz."""
    T, slope = torch.empty_like(z), torch.empty_like(z)
    V0 = float(V0)
    library().qt_transmission_and_slope(z.data_ptr(), T.data_ptr(), slope.data_ptr(), z.numel(), ampl / V0,
                                        float(g), chain_numerator / V0, EPS_FREE, torch.get_num_threads())
    return T, slope


def input_gradient(z: torch.Tensor, grad: torch.Tensor, ampl: float, V0, g, chain_numerator: float) -> torch.Tensor:
    """grad * (chain_numerator / V0) dT/deps, the slope recomputed in the same pass (``grad`` as ``z``)."""
    out = torch.empty_like(z)
    V0 = float(V0)
    library().qt_input_gradient(z.data_ptr(), grad.data_ptr(), out.data_ptr(), z.numel(), ampl / V0, float(g),
                                chain_numerator / V0, EPS_FREE, torch.get_num_threads())
    return out
