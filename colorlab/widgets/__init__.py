"""Interactive widgets for JupyterLab (ipywidgets 8).

Each widget is a plain Python object holding its state and callbacks (so tests and scripts
drive it without a browser); ``obj.widget`` is its ipywidgets view, and displaying the object
in a notebook shows that view.

* :class:`HintPainter` — click on a gray photo to drop colour hints (Zhang et al. 2017).
* :class:`RarityExplorer` — λ and weighting scheme → weight map and the effect on one photo's loss.
* :class:`ProfileExplorer` — K → palettes and member photos of each colour profile.
* :class:`TuringTest` — which of the two is real? A two-alternative forced choice (Zhang et al. 2016);
  the fooled rate with its 95 % Wilson interval.
* :class:`RealOrFakeTest` — one photo at a time: real or fake? (Siswanto & Karnati); :class:`PreferenceTest` —
  which model's colorization is most accurate? (Robles & Budach); each rate with its Wilson interval.

An error inside a widget's callback is shown in the widget's status line (:func:`._common.shows_errors`).
"""
from colorlab.core.lazy import lazy_exports

__all__ = ["HintPainter", "RarityExplorer", "ProfileExplorer", "TuringTest", "TuringReport", "wilson_interval",
           "RealOrFakeTest", "PreferenceTest", "real_or_fake_rates", "preference_shares"]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "hint_painter": "HintPainter",
    "human_eval": "PreferenceTest RealOrFakeTest preference_shares real_or_fake_rates",
    "profile_explorer": "ProfileExplorer",
    "rarity_explorer": "RarityExplorer",
    "turing_test": "TuringReport TuringTest wilson_interval",
})
