"""Federated algorithms, one package per protocol, one file per role (see DESIGN.md)."""
