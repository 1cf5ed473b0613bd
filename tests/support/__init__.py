"""What the tests share: factories, the local bot harness, store and scenario set-ups."""
