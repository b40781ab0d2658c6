"""Compliance: statutory restrictions and human-rights vetting gate every dollar.

The policy's third goal is respect for human rights and accountable security forces;
in law that is enforced by statutes that block assistance — the coup restriction of
the annual appropriations act (Sec. 7008), the Child Soldiers Prevention Act, the
Trafficking in Persons Tier 3 sanctions, the State Sponsors of Terrorism
prohibitions — and by the Leahy laws, which require the units assisted to be vetted.

The pure core, importing nothing from models, services or interfaces:

- :mod:`.rules` — the rules as data (``data/default_rules.toml``): which restriction
  type blocks which accounts, for which recipients, with which exceptions and
  waivers; a strict loader.
- :mod:`.inputs` — the facts judged: restrictions with their waivers, program-years.
- :mod:`.vetting` — units, vetting records, credible information; a unit's vetting
  state on a day, expiring approvals, the list of assisted units per country.
- :mod:`.engine` — eligibility of a program-year with every reason, the blocked
  (country, account, fiscal year) cells for the allocation optimizer, and the
  program ids a restriction change affects (the monitoring review trigger).
- :mod:`.restrictions_csv` — the restrictions register read from CSV, all or nothing.

The shipped rules are a starting point to be reviewed by counsel (``docs/compliance.md``,
``data/SOURCES.md``).
"""
