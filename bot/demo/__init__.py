"""`auditbot demo` (`week`), its example outputs (`data`; the prose in `texts/*.toml`)
and the bot against the local Slack sandbox (`local`, also what the tests and the bench
run). Installed for `make demo`; nothing `serve` runs imports it."""
