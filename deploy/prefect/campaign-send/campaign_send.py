"""A downstream flow guarded by datahealth: send the campaign only when its input tables are healthy.

`require_healthy` reads the history store of the monitoring project; with `on_unhealthy="wait"` it looks
again every minute for up to 30 minutes, then fails the flow run (no campaign from stale data).
"""

from prefect import flow, task

from datahealth.prefect import require_healthy

INPUTS = ["warehouse.orders", "warehouse.customers"]


@task
def send_campaign(name: str) -> None:
    print(f"sending {name}")


@flow(name="campaign-send")
def campaign_send(monitoring_project: str = "/srv/monitoring", campaign: str = "autumn") -> None:
    require_healthy(INPUTS, project_dir=monitoring_project, on_unhealthy="wait", wait_minutes=30)
    send_campaign(campaign)
