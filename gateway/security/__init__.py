"""Trigger security primitives shared by the service (compiled workflows, validation) and the
webhook adapter: signature verifiers and rate arithmetic. Pure: no I/O."""
