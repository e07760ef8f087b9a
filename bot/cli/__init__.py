"""The ``parrot`` admin CLI: thin commands over the store, the library and the engine."""
