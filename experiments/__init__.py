"""Experiment specs (the ``*.yaml`` files here), shipped as package data: ``rl_coordconv.specs`` in a wheel.

``rl-coordconv sweep quick`` runs ``quick.yaml`` by name; README.md in this folder describes each spec.
"""
