"""Program configuration: the shared field types, the section policies, the program
model, the loader and the JSON Schema.

Import from the submodules; this package imports nothing, so that the section
configurations (``earning.config``, ``rewards.config``, ``tiers.config``,
``hurdles``) can import :mod:`loyalty.program.types` and
:mod:`loyalty.program.amounts` without loading the program model that imports them.
"""
