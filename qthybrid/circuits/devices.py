"""Fake IBM devices by name, the transpile targets of noise rehearsal and cost reports."""

from __future__ import annotations


def fake_backend(name: str):
    """A fake IBM backend by name: 'fake_manila', 'FakeManilaV2', 'fake_torino', ..."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a fake backend name must be a non-empty string such as 'fake_torino', got {name!r}")
    try:
        from qiskit_ibm_runtime import fake_provider
    except ImportError as exc:
        raise ImportError("noise rehearsal needs qiskit-ibm-runtime: pip install qiskit-ibm-runtime") from exc
    wanted = name.lower().replace("_", "").replace("-", "")
    if not wanted.startswith("fake"):
        wanted = "fake" + wanted
    candidates = {attr.lower(): attr for attr in dir(fake_provider)
                  if attr.startswith("Fake") and not attr.startswith("FakeProvider")}
    for key in (wanted, wanted + "v2"):
        if key in candidates:
            return getattr(fake_provider, candidates[key])()
    known = sorted(a for a in candidates.values() if a.endswith("V2") or a in ("FakeTorino", "FakeFez"))
    raise ValueError(f"unknown fake backend {name!r}; known: {', '.join(known[:40])}, ...")
