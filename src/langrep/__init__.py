"""langrep: language representations in multilingual encoders (Liu et al., 2020).

The library behind the langrep Snakemake workflow. Each module has one job; see DEVELOPERS.md.
"""

from langrep.errors import LangrepError
from langrep.means import mean_difference_shift, zero_mean

__version__ = "0.1.0"
__all__ = ["LangrepError", "mean_difference_shift", "zero_mean", "__version__"]
