"""langrep: language representations in multilingual encoders (Liu et al., 2020).

The library behind the langrep Snakemake workflow. Each module has one job; see DEVELOPERS.md.
"""

from langrep.errors import LangrepError

__version__ = "0.1.0"
__all__ = ["LangrepError", "mean_difference_shift", "zero_mean", "__version__"]


def __getattr__(name):
    # numpy and pandas on first use only: `import langrep.x` stays as cheap as module x itself
    # (langrep-profile starts in milliseconds, a fetch job imports no array library)
    if name in ("mean_difference_shift", "zero_mean"):
        from langrep.means import representations as means

        return getattr(means, name)
    raise AttributeError(f"module 'langrep' has no attribute {name!r}")
