r"""GRACE's reproductions (spine issue): ``node_classification.py --methods grace ...``.

python experiments/reproduce_grace.py --datasets Cora Photo --seeds 0 1 2 3 4 \
    --root ../shared/datasets
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from node_classification import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["--methods", "grace", *sys.argv[1:]]))
