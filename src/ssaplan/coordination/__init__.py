"""Coordination with other donors: their activities (from IATI) and published U.S. figures."""
