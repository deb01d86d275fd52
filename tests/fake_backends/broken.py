"""An adapter whose import fails, as one whose framework is not installed does."""

import not_a_framework_benchbench_knows  # noqa: F401
