"""Monitoring: performance against targets, money pace, delivery timelines, reviews and
crisis surges — from the results framework to continue / restructure / terminate.

The policy asks to "minimize assistance-delivery timelines", to measure effectiveness,
to be "responsive to urgent crises" and to "consider initiating, restructuring, or
terminating security sector assistance programs either as part of the annual planning
cycle or on an immediate basis"; government auditors have found no time frames, no
delivery data and results that do not feed decisions. Here:

- :mod:`.rules` — every threshold, standard and review rule as data
  (``data/rules.toml``), changeable by admins, each with its stated rule.
- :mod:`.engine` — pure: indicator ratings (on track / at risk / off track), delivery
  timelines against standards, money pace and availability, review findings and the
  recommendation (continue, scale up, restructure, suspend, terminate).
- :mod:`.service` — monitoring reads and the facts the rules judge;
  :mod:`.reviews` — opening and deciding reviews, crises; :mod:`.surge` — the flexible
  reserve and surge requests.

Other domains open an immediate review with :meth:`.service.MonitoringService.open_review`
(the compliance domain on a new legal restriction).
"""
