"""Strategies: multi-year country and regional sector strategies and their results
frameworks.

The policy asks for "comprehensive sector strategies", "measurable security sector
assistance objectives" and "appropriate data collection of the impacts and results";
10 U.S.C. 383 asks for initial assessments with baselines and indicators. A strategy
names its partner (a country or a region), its fiscal years and its theory of change;
each objective ties to the policy's goal tree (``G1.1`` ...), carries indicators
(measures of effectiveness and of performance, each with unit, baseline, yearly
targets, data source, collection frequency and breakdowns), a sustainment plan (what
it costs to keep up, the partner's share by year, the day the partner takes over) and
the programs that serve it; the partner's commitments (cost share, legislation,
personnel) sit beside. Measurements of indicators come in by form, API or CSV, each
with a data-quality grade and the collector's confidence.

- :mod:`.engine` — periods, the checks a framework must pass, expected values.
- :mod:`.service` — strategies and their frameworks; :mod:`.measurements` — values.
- :mod:`.measurements_csv` — the measurements CSV reader.
"""
