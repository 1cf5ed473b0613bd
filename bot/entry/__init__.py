"""Entry points: the `auditbot` command (`cli`) and `auditbot serve` (`server`)."""
