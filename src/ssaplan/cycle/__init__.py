"""The interagency planning cycle: the calendar of each fiscal year, proposals and their
concurrence routing, threaded comments, congressional notification before obligation,
pipeline analytics (where proposals stall, and on whom) and each user's inbox.

Implements the policy's "deliberate and inclusive whole-of-government process" with
defined time frames and a record of every step (DESIGN.md, policy line on interagency
coherence and delivery timelines).
"""
