"""The steps: one module per rule, named as the rule; each rule's script calls its module."""
