"""datahealth: data-quality and freshness monitoring for warehouses and lakes, on Prefect."""

__version__ = "0.1.0"
