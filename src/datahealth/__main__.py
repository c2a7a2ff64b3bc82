"""`python -m datahealth` is the same as the `datahealth` console script."""

from datahealth.cli.entrypoint import main

main()
