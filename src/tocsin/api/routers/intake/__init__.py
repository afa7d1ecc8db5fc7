"""Alert intake: /ingest (every format), PagerDuty's Events API and Opsgenie's Alert API."""
