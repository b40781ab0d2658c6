"""Administration: logins, users and their roles, the audit trail."""
