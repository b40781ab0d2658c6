"""The workbench: app factory, layout, static assets, the home dashboard."""
