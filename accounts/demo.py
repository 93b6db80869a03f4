"""The demo data's shared password (for `make run` only, never a deployment)."""

DEMO_PASSWORD = "branchline-demo"
