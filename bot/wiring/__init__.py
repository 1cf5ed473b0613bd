"""What listeners and jobs are handed: the app context (`context`) and the settings from
the environment (`config`)."""
