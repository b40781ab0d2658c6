"""Cross-cutting parts every domain uses: settings, store, auth, audit, errors."""
