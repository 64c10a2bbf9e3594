"""Staff sign-in to the admin: lockout after repeated failures, and the TOTP second factor."""
