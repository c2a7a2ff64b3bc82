"""Local stand-ins of cloud warehouses, started on free loopback ports: fakesnow for Snowflake, bqemulator
for BigQuery (each in its own virtualenv, built by scripts/standins.sh), and the machine's MariaDB.

`datahealth demo` runs on them when `DATAHEALTH_DEMO_ENGINE` asks (see `datahealth.demo.engines`); the test
suite starts them through the same launchers.
"""
