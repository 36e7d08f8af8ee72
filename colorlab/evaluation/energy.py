"""What training costs in energy: measured here, and estimated for the project reports' runs.

Two ways to measure, and :class:`EnergyMeter` says which one it used:

* **RAPL** (Intel's Running Average Power Limit counters, also on recent AMD CPUs): when Linux exposes them
  readable under ``/sys/class/powercap/*/energy_uj``, the energy the CPU packages drew is read before and after.
  It counts the whole package (other programs too) and neither memory nor power supply losses.
* **CPU time × power per core** otherwise: the CPU seconds this process used (every thread,
  :func:`time.process_time`) times a *stated* power per busy core, :data:`WATTS_PER_CORE`. That rule charges the
  run only for the cores it kept busy, so a shared machine's other users are not counted; the power per core is
  an assumption to replace with your machine's figure.

:data:`REPORTED_RUNS` holds the two training times the project reports state, each with the hardware they
name; :func:`estimate_kwh` turns hours and a power into kWh.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WATTS_PER_CORE", "RAPL_ROOT", "EnergyMeter", "rapl_joules", "estimate_kwh", "REPORTED_RUNS",
           "reported_estimates"]

#: The assumed draw of one busy CPU core, in watts (an assumption, not a measurement: server cores at full load
#: draw roughly 5–15 W each, depending on the chip; replace it with your machine's figure).
WATTS_PER_CORE = 10.0
RAPL_ROOT = Path("/sys/class/powercap")


def rapl_joules(root: Path = RAPL_ROOT) -> float | None:
    """The summed energy counters of the top-level RAPL domains (packages) in joules, or None when unreadable."""
    try:
        files = sorted(p / "energy_uj" for p in Path(root).glob("*rapl:*") if p.name.count(":") == 1)
        values = [int(f.read_text()) for f in files]
    except (OSError, ValueError):
        return None
    return sum(values) / 1e6 if values else None


@dataclass
class EnergyMeter:
    """``with EnergyMeter() as m: train()`` → ``m.seconds`` (wall), ``m.cpu_seconds``, ``m.joules``, ``m.method``.

    ``watts_per_core``: the power per busy core of the CPU-time rule (used when RAPL is not readable).
    """
    watts_per_core: float = WATTS_PER_CORE
    rapl_root: Path = RAPL_ROOT
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    joules: float = 0.0
    method: str = ""

    def __enter__(self):
        self._rapl = rapl_joules(self.rapl_root)
        self._t, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t
        self.cpu_seconds = time.process_time() - self._cpu
        after = rapl_joules(self.rapl_root) if self._rapl is not None else None
        if after is not None and after >= self._rapl:
            self.joules, self.method = after - self._rapl, "RAPL package counters (whole CPU package)"
        else:
            self.joules = self.cpu_seconds * self.watts_per_core
            self.method = (f"CPU time × {self.watts_per_core:g} W per busy core (assumed; RAPL not readable under "
                           f"{self.rapl_root})")
        return False

    @property
    def kwh(self) -> float:
        return self.joules / 3.6e6


def estimate_kwh(hours: float, watts: float) -> float:
    """Energy of ``hours`` at a constant ``watts``, in kWh."""
    return hours * watts / 1000.0


#: The training times the five reports state (the others give none): who, what they say, the hardware they
#: name, the power this module assumes for it (with where that number comes from) and, where the report gives
#: epochs, steps and batch size, the number of images the training passed through the network.
REPORTED_RUNS = (
    {"report": "Pandey, Sahay & Jayavarthini", "hours": 8.0,
     "says": "\"The training time was around 8hrs. Nvidia GeForce 1050Ti GPU was used\"",
     "hardware": "NVIDIA GeForce GTX 1050 Ti", "watts": 75.0, "image_passes": None,
     "watts_source": "the card's rated board power (NVIDIA's specification); the rest of the computer is not counted"},
    {"report": "Benabla, Gao & Williams", "hours": 19.0,
     "says": "\"Training was conducted for about 18-20 hours\" (their automatic-colorization CNN)",
     "hardware": "not named (machines of Brown CS, Amazon and Google, they write)", "watts": 250.0,
     # "800 epochs with 8 steps per epoch, followed by 250 epochs with 20 steps per epoch, with a batch size of 20"
     "image_passes": 800 * 8 * 20 + 250 * 20 * 20,
     "watts_source": "an assumption: a typical data-centre GPU's board power; the report names no GPU"},
)


def reported_estimates(runs=REPORTED_RUNS) -> list[dict]:
    """Each reported run with its energy estimate ``kwh`` = hours × watts (an estimate: the watts are stated above)."""
    return [{**r, "kwh": estimate_kwh(r["hours"], r["watts"])} for r in runs]
