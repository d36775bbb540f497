"""Report sections: one module each, ``build(ctx) -> Section | None``."""
