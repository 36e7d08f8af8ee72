"""Training, the fastai way: a :class:`TrainConfig`, builders that compose DataLoaders, model, loss,
callbacks and Learner, and :func:`train_colorizer`, the sweep runs, the predictor, the per-group and the
hint trainers that use them; the kit's callbacks; the precision / memory-format / compile choice
measured per machine (:mod:`~colorlab.training.speed`) and the training benchmark.
"""
from colorlab.core.lazy import lazy_exports
from colorlab.core.logs import quiet_imports

with quiet_imports():  # fastai calls the deprecated torch.jit.script while it is imported: silenced here only,
    import fastai.torch_basics  # noqa: F401  (before any training module imports fastai; no global filter)

__all__ = [
    "train_flops", "matmul_peak", "matmul_peaks", "training_speed", "TrainingBenchmark",
    "benchmark_training", "build_dataloaders", "build_model", "build_loss", "build_plan", "build_callbacks",
    "build_learner", "make_learner", "training_callbacks", "quiet", "DeviceMixedPrecision",
    "ChannelsLastFormat", "CheckpointEvery", "ResumeAt", "GalleryEvery", "SnapshotAt", "DistributedDDP",
    "HintCallback", "TrainConfig", "describe_augment", "gallery_figure", "save_gallery",
    "progression_figure", "train_hint_model", "PredictorConfig", "train_predictor", "predict_proba",
    "labels_of", "top3_accuracy", "group_labels", "group_images", "group_subset", "DataSubset",
    "group_priors", "prior_shift", "train_per_group", "SpeedPlan", "speed_plan", "autocast_dtype", "probe",
    "candidates", "compile_pays", "record_compile", "cache_key", "cpu_capability", "cpu_model",
    "PRECISIONS", "DTYPES", "DEFAULTS", "DEFAULT_METRICS", "load_config", "expand_runs", "short", "slug",
    "TrainResult", "train_colorizer",
]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "benchmark": "benchmark_training matmul_peak matmul_peaks train_flops training_speed TrainingBenchmark",
    "builders": ("build_callbacks build_dataloaders build_learner build_loss build_model build_plan "
                "make_learner quiet training_callbacks"),
    "callbacks": ("ChannelsLastFormat CheckpointEvery DeviceMixedPrecision DistributedDDP GalleryEvery "
                 "HintCallback ResumeAt SnapshotAt"),
    "config": "describe_augment TrainConfig",
    "gallery": "gallery_figure progression_figure save_gallery",
    "hints": "train_hint_model",
    "predictor": "labels_of predict_proba PredictorConfig top3_accuracy train_predictor",
    "routing": "DataSubset group_images group_labels group_priors group_subset prior_shift train_per_group",
    "speed": ("autocast_dtype cache_key candidates compile_pays cpu_capability cpu_model DTYPES PRECISIONS "
             "probe record_compile speed_plan SpeedPlan"),
    "sweep_config": "DEFAULT_METRICS DEFAULTS expand_runs load_config short slug",
    "train": "train_colorizer TrainResult",
})
