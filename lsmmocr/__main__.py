"""``python -m lsmmocr {train,test} ...`` (see :func:`lsmmocr.cli.main`)."""
from .cli import main

main()
