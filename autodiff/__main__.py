"""``python -m autodiff`` prints the same report as ``python -m autodiff.info``."""

from autodiff.info import main

main()
