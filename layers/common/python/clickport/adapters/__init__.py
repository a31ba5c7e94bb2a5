"""Adapters: the AWS and local implementations of the ports in ``clickport.ports``."""
