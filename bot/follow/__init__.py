"""What follows an action, in one place for listeners (``handlers/``) and jobs (``schedules/``).

A grade, a settled disagreement, a decided trainer dispute or an adjudication is stored and
acked by its listener; what follows it (the outbox woken, the threshold check, the grader's
note and consistency notices, the trainer's feedback) is one call into ``bot.follow.after``.
The bodies that both layers run (publishing a Home, the weekly audit that `/audit run` and
the scheduler start) live here too, so neither layer imports the other.

Below the listeners and jobs, above ``bot.wiring.context``: it may use the app context and the
Slack side, never Bolt or the web server.
"""
