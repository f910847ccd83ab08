"""What patients asked that no doctor answered: the redacted log and the report built from it."""
